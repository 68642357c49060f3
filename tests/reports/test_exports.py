"""Exports: scoped, filterable, streamed in keyset pages."""

import csv
import io
import json

import pytest

from reports import exports
from tests.conftest import create
from tests.surveys import scenario


@pytest.fixture
def scene(people):
    return scenario.build(people)


def body(response) -> str:
    assert response.streaming
    return b"".join(response.streaming_content).decode()


@pytest.mark.django_db
def test_survey_csv_is_scoped_and_carries_scores(scene, client_for):
    response = client_for("manager_north").get("/api/exports/surveys.csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(body(response))))
    by_id = {row["id"]: row for row in rows}
    expected = {str(pk): name for name, pk in scene["surveys"].items() if name != "G"}
    assert set(by_id) == set(expected)
    for pk, name in expected.items():
        score = scenario.EXPECTED[name][0]
        if score is None:
            assert by_id[pk]["score"] == ""
        else:
            assert float(by_id[pk]["score"]) == pytest.approx(score, abs=1e-4)
    c = by_id[str(scene["surveys"]["C"])]
    assert (c["store_name"], c["region"], c["owner"], c["scored_type"]) == (
        "Kiosk 2",
        "north",
        "rep-north-2",
        "office",
    )
    assert json.loads(c["footfall_slots"]) == {"morning": 10}


@pytest.mark.django_db
def test_survey_csv_filters_like_the_list(scene, client_for):
    response = client_for("hq").get(
        "/api/exports/surveys.csv", {"store": str(scene["stores"]["S1"])}
    )
    bad = client_for("hq").get("/api/exports/surveys.csv", {"captured_after": "yesterday"})

    rows = list(csv.DictReader(io.StringIO(body(response))))
    assert sorted(row["id"] for row in rows) == sorted(
        str(scene["surveys"][name]) for name in ("A", "B", "D")
    )
    assert bad.status_code == 400


@pytest.mark.django_db
def test_csv_cells_cannot_become_formulas(people, client_for):
    store = create("store", name="=HYPERLINK(1)", lat=53.5, lon=9.9, region="north")
    create("survey", store=store, notes="+1 more shelf")

    rows = list(csv.DictReader(io.StringIO(body(client_for("hq").get("/api/exports/surveys.csv")))))

    assert (rows[0]["store_name"], rows[0]["notes"]) == ("'=HYPERLINK(1)", "'+1 more shelf")


@pytest.mark.django_db
def test_pages_cover_every_row_once(scene, client_for, monkeypatch):
    monkeypatch.setattr(exports, "PAGE", 3)

    rows = list(csv.DictReader(io.StringIO(body(client_for("hq").get("/api/exports/surveys.csv")))))
    stores = json.loads(body(client_for("hq").get("/api/exports/stores.geojson")))

    assert sorted(row["id"] for row in rows) == sorted(str(pk) for pk in scene["surveys"].values())
    assert sorted(f["id"] for f in stores["features"]) == sorted(
        str(pk) for pk in scene["stores"].values()
    )


@pytest.mark.django_db
def test_store_geojson_is_scoped_and_filtered(scene, client_for):
    manager = client_for("manager_north")

    everything = json.loads(body(manager.get("/api/exports/stores.geojson")))
    residential = json.loads(
        body(manager.get("/api/exports/stores.geojson", {"trade_area_type": "residential"}))
    )

    assert everything["type"] == "FeatureCollection"
    assert len(everything["features"]) == 5  # S6 is south
    feature = next(f for f in everything["features"] if f["id"] == str(scene["stores"]["S1"]))
    assert feature["geometry"] == {"type": "Point", "coordinates": [9.99, 53.55]}
    assert feature["properties"]["name"] == "Kiosk 1"
    assert list(feature["properties"]) == [
        "id",
        "name",
        "chain_name",
        "phone",
        "address",
        "region",
        "owner",
        "status",
        "trade_area_type",
        "grade",
        "segment",
        "tags",
        "opening_hours_proposed",
        "phone_verified",
        "closing_proposed_at",
    ]
    assert feature["properties"]["region"] == "north"
    assert sorted(f["properties"]["name"] for f in residential["features"]) == [
        "Kiosk 3",
        "Kiosk 5",
    ]


@pytest.mark.django_db
def test_empty_geojson_is_valid(people, client_for):
    response = client_for("hq").get("/api/exports/stores.geojson")

    assert json.loads(body(response)) == {"type": "FeatureCollection", "features": []}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/exports/surveys.csv", "/api/exports/stores.geojson"])
def test_reps_may_not_export(client_for, path):
    assert client_for("rep_north").get(path).status_code == 403
