"""The HQ map's server side: what a store's popup says, which tile server the page may
load images from (none in tests), and that the vendored map libraries are the pinned ones."""

import hashlib
import re
from pathlib import Path

import pytest
from django.test import Client

from hq.csp import map_policy, tile_origin
from hq.views import store_url_pattern
from tests.surveys import scenario

VENDOR = Path(__file__).resolve().parents[2] / "backend" / "hq" / "static" / "hq" / "vendor"


@pytest.fixture
def scene(people):
    return scenario.build(people)


def office(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_popup_data_names_the_owner_the_last_survey_and_links_the_store(scene, people, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    people["rep_north"].first_name, people["rep_north"].last_name = "Anna", "Berg"
    people["rep_north"].save()

    features = office(people["hq"]).get("/hq/map/stores.json").json()["features"]
    by_id = {f["id"]: f["properties"] for f in features}

    s1 = by_id[str(scene["stores"]["S1"])]
    assert s1["owner"] == "Anna Berg (rep-north-1)"
    assert s1["url"] == store_url_pattern().replace("{id}", str(scene["stores"]["S1"]))
    # The latest survey of S1 is D, a day old, 75 % complete.
    assert re.fullmatch(r".+, 75 % complete", s1["survey"]), s1["survey"]
    assert by_id[str(scene["stores"]["S2"])]["owner"] == "rep-north-2"
    assert by_id[str(scene["stores"]["S4"])]["survey"] == "none"
    # S2's latest survey is H (a school: no template scores it).
    assert by_id[str(scene["stores"]["S2"])]["survey"].endswith("no template to score it")


@pytest.mark.django_db
def test_popup_times_are_in_the_configured_time_zone(people, settings):
    import datetime as dt

    from tests.conftest import create

    settings.TIME_ZONE = "Europe/Berlin"
    store = create("store", name="Eck", lat=53.5, lon=9.9, region="north")
    create(
        "survey",
        store=store,
        captured_at=dt.datetime(2026, 11, 30, 23, 30, tzinfo=dt.UTC).isoformat(),
    )

    properties = office(people["hq"]).get("/hq/map/stores.json").json()["features"][0]
    # 23:30 UTC is half past midnight the next day in Berlin.
    assert properties["properties"]["survey"].startswith("2026-12-01 00:30"), properties


@pytest.mark.django_db
def test_no_tile_server_in_tests_so_the_page_allows_no_outside_images(people):
    response = office(people["hq"]).get("/hq/map/")
    policy = response["Content-Security-Policy"]

    assert 'data-tiles-url=""' in response.content.decode()
    assert "img-src 'self' data:;" in policy
    assert "script-src 'self';" in policy


@pytest.mark.django_db
def test_the_configured_tile_server_is_allowed_by_the_pages_policy(people, settings):
    settings.FIELDLINE = {
        **settings.FIELDLINE,
        "MAP_TILES_URL": "https://{s}.tiles.example.org/osm/{z}/{x}/{y}.png",
        "MAP_TILES_ATTRIBUTION": "&copy; Example tiles",
    }
    response = office(people["hq"]).get("/hq/map/")
    html = response.content.decode()

    policy = response["Content-Security-Policy"]
    assert "img-src 'self' data: https://*.tiles.example.org;" in policy
    assert 'data-tiles-url="https://{s}.tiles.example.org/osm/{z}/{x}/{y}.png"' in html
    assert 'data-tiles-attribution="&amp;copy; Example tiles"' in html


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.openstreetmap.org"),
        ("https://{s}.tile.openstreetmap.de/{z}/{x}/{y}.png", "https://*.tile.openstreetmap.de"),
        ("http://localhost:8080/tiles/{z}/{x}/{y}.png", "http://localhost:8080"),
        ("https://tiles-{s}.example.org/{z}/{x}/{y}.png", "https://*.example.org"),
        ("https://a.{s}.example.org/{z}/{x}/{y}.png", "https:"),
        ("", None),
        ("/tiles/{z}/{x}/{y}.png", None),
        ("javascript:alert(1)", None),
    ],
)
def test_tile_origin(url, origin):
    assert tile_origin(url) == origin


def test_the_production_default_is_openstreetmap():
    from fieldline.conf import FieldlineSettings

    assert FieldlineSettings.MAP_TILES_URL == "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    assert "OpenStreetMap" in FieldlineSettings.MAP_TILES_ATTRIBUTION


def test_map_policy_without_tiles():
    assert "img-src 'self' data:;" in map_policy()


@pytest.mark.parametrize("library", ["leaflet-1.9.4", "leaflet.markercluster-1.5.3"])
def test_vendored_files_are_the_pinned_ones(library):
    """Each vendored library's README records the sha256 of its files: they are unmodified
    copies of the pinned release, with its licence."""
    folder = VENDOR / library
    recorded = re.findall(r"^\s+([0-9a-f]{64})  (\S+)$", (folder / "README.md").read_text(), re.M)

    assert recorded
    assert (folder / "LICENSE").exists()
    for digest, name in recorded:
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name
