"""Duplicate stores: found by phone or by place and name, merged keeping every record."""

import time
import uuid

import pytest

from stores.models import Store
from surveys.models import Photo, SiteSurvey
from sync.models import ChangeLog
from tasks.models import Task
from tests.conftest import create
from tests.sync.phone import Phone
from visits.models import FollowUp, Visit

# Pulls read committed positions only, so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)

PHONE = "+494032904100"
# About 11 m north of the market kiosk, and about 110 m.
NEAR, FAR = 0.0001, 0.001


def store(people, who, name, *, lat=53.55, lon=9.99, phone=""):
    rep = people[who]
    return create(
        "store", name=name, phone=phone, lat=lat, lon=lon, region=rep.region_id, owner=rep.pk
    )


@pytest.fixture
def duplicates(people):
    return {
        "phone_a": store(people, "rep_north", "Corner Shop", lat=53.50, phone=PHONE),
        "phone_b": store(people, "rep_north_2", "Shop at the corner", lat=53.60, phone=PHONE),
        "phone_south": store(people, "rep_south", "Laden", lat=48.14, lon=11.58, phone=PHONE),
        "kiosk": store(people, "rep_north", "Kiosk am Markt"),
        "kiosk_twin": store(people, "rep_north_2", "Kiosk am Markt.", lat=53.55 + NEAR),
        "bakery": store(people, "rep_north", "Bäckerei Schmidt", lat=53.55 - NEAR),
        "kiosk_far": store(people, "rep_north", "Kiosk am Markt", lat=53.55 + FAR),
    }


def ids(stores):
    return {s["id"] for s in stores}


def test_manager_sees_their_regions_duplicates(client_for, duplicates):
    response = client_for("manager_north").get("/api/stores/duplicates")

    assert response.status_code == 200, response.content
    body = response.json()
    assert [group["phone"] for group in body["by_phone"]] == [PHONE]
    assert ids(body["by_phone"][0]["stores"]) == {
        str(duplicates["phone_a"]),
        str(duplicates["phone_b"]),
    }
    assert len(body["nearby"]) == 1
    (pair,) = body["nearby"]
    assert ids(pair["stores"]) == {str(duplicates["kiosk"]), str(duplicates["kiosk_twin"])}
    assert 10 < pair["distance_m"] < 12
    assert pair["name_similarity"] >= 0.8


def test_hq_sees_every_region(client_for, duplicates):
    body = client_for("hq").get("/api/stores/duplicates").json()

    assert ids(body["by_phone"][0]["stores"]) == {
        str(duplicates["phone_a"]),
        str(duplicates["phone_b"]),
        str(duplicates["phone_south"]),
    }


def test_a_region_without_duplicates_has_none(client_for, duplicates):
    body = client_for("manager_south").get("/api/stores/duplicates").json()

    assert body == {
        "count_by_phone": 0,
        "count_nearby": 0,
        "next": None,
        "by_phone": [],
        "nearby": [],
    }


def test_deleted_stores_are_not_duplicates(client_for, duplicates):
    response = client_for("manager_north").delete(f"/api/stores/{duplicates['phone_b']}/")
    assert response.status_code == 204

    body = client_for("manager_north").get("/api/stores/duplicates").json()

    assert body["by_phone"] == []


def test_reps_may_not_look_for_duplicates(client_for, duplicates):
    assert client_for("rep_north").get("/api/stores/duplicates").status_code == 403
    assert client_for("rep_north").post("/api/stores/merge", {}).status_code == 403


def counts():
    return {
        model.__name__: model.objects.filter(deleted=False).count()
        for model in (SiteSurvey, Visit, FollowUp, Task, Photo)
    }


def merge(client, winner, loser):
    return client.post(
        "/api/stores/merge", {"winner": str(winner), "loser": str(loser)}, format="json"
    )


def test_merge_keeps_every_record_and_leaves_a_tombstone(client_for, world, people):
    winner, loser = world["rep_north"]["store"], world["rep_north_2"]["store"]
    before = counts()

    response = merge(client_for("manager_north"), winner, loser)

    assert response.status_code == 200, response.content
    assert response.json() == {
        "winner": str(winner),
        "loser": str(loser),
        "moved": {"survey": 1, "visit": 1, "followup": 1, "task": 1},
    }
    assert counts() == before
    for model in (SiteSurvey, Visit, FollowUp, Task):
        assert model.objects.filter(store_id=winner, deleted=False).count() == 2
        assert not model.objects.filter(store_id=loser).exists()
    photo = Photo.objects.get(pk=world["rep_north_2"]["photo"])
    assert photo.scope_owner_id == people["rep_north"].pk
    tombstone = Store.objects.get(pk=loser)
    assert tombstone.deleted is True
    assert tombstone.merged_into == winner
    history = ChangeLog.objects.filter(entity="store", record_id=loser).order_by("version")
    assert [(c.op, c.source) for c in history] == [
        ("create", "system"),
        ("update", "rest"),
        ("delete", "rest"),
    ]
    assert history[1].new_values == {"merged_into": str(winner)}
    moved = ChangeLog.objects.get(
        entity="survey", record_id=world["rep_north_2"]["survey"], op="update"
    )
    assert moved.old_values == {"store": str(loser)}
    assert moved.new_values == {"store": str(winner)}
    assert moved.actor_id == people["manager_north"].pk


def test_phones_learn_of_the_merge_on_their_next_pull(client_for, world):
    winner, loser = world["rep_north"]["store"], world["rep_north_2"]["store"]
    loser_survey = str(world["rep_north_2"]["survey"])
    winner_phone = Phone(client_for("rep_north"))
    loser_phone = Phone(client_for("rep_north_2"))
    winner_phone.pull()
    loser_phone.pull()
    assert ("store", str(loser)) in loser_phone.replica

    assert merge(client_for("manager_north"), winner, loser).status_code == 200
    winner_phone.pull()
    loser_phone.pull()

    assert winner_phone.records("survey")[loser_survey]["store"] == str(winner)
    assert set(winner_phone.records("visit")) == {
        str(world["rep_north"]["visit"]),
        str(world["rep_north_2"]["visit"]),
    }
    assert str(world["rep_north_2"]["photo"]) in winner_phone.records("photo")
    assert loser_phone.records("store") == {}
    assert loser_phone.records("survey") == {}
    assert loser_phone.records("photo") == {}


def test_manager_pull_sees_the_loser_deleted(client_for, world):
    winner, loser = world["rep_north"]["store"], world["rep_north_2"]["store"]
    office = Phone(client_for("manager_north"))
    office.pull()

    assert merge(client_for("manager_north"), winner, loser).status_code == 200
    office.pull()

    assert str(loser) not in office.records("store")
    assert office.records("survey")[str(world["rep_north_2"]["survey"])]["store"] == str(winner)


def test_hq_may_merge_any_region(client_for, world):
    winner, loser = world["rep_north_2"]["store"], world["rep_north"]["store"]

    assert merge(client_for("hq"), winner, loser).status_code == 200
    assert Store.objects.get(pk=loser).merged_into == winner


def assert_nothing_merged(world, before_log):
    assert ChangeLog.objects.count() == before_log
    for who in ("rep_north", "rep_north_2", "rep_south"):
        assert Store.objects.get(pk=world[who]["store"]).deleted is False
        assert SiteSurvey.objects.get(pk=world[who]["survey"]).store_id == world[who]["store"]


def test_a_store_cannot_be_merged_into_itself(client_for, world):
    before = ChangeLog.objects.count()
    store_id = world["rep_north"]["store"]

    response = merge(client_for("manager_north"), store_id, store_id)

    assert response.status_code == 400
    assert response.json()["code"] == "same_store"
    assert_nothing_merged(world, before)


def test_stores_of_different_regions_are_not_merged(client_for, world):
    before = ChangeLog.objects.count()

    response = merge(client_for("hq"), world["rep_north"]["store"], world["rep_south"]["store"])

    assert response.status_code == 400
    assert response.json()["code"] == "other_region"
    assert_nothing_merged(world, before)


@pytest.mark.parametrize(
    ("who", "winner", "loser"),
    [
        ("manager_south", "rep_north", "rep_north_2"),
        ("manager_north", "rep_north", "rep_south"),
    ],
)
def test_stores_out_of_scope_answer_404(client_for, world, who, winner, loser):
    before = ChangeLog.objects.count()

    response = merge(client_for(who), world[winner]["store"], world[loser]["store"])

    assert response.status_code == 404
    assert_nothing_merged(world, before)


def test_a_failure_half_way_leaves_nothing_merged(client_for, world, monkeypatch):
    before = ChangeLog.objects.count()

    def fail(**_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("stores.services.bulk_update_records", fail)
    client = client_for("manager_north")
    client.raise_request_exception = False

    response = merge(client, world["rep_north"]["store"], world["rep_north_2"]["store"])

    assert response.status_code == 500
    assert_nothing_merged(world, before)
    assert Store.objects.get(pk=world["rep_north_2"]["store"]).merged_into is None


def similar_prospects(people, count: int) -> None:
    """`count` prospects a rep entered on one spot with near-identical names."""
    from sync.bulk import bulk_create_records

    rep = people["rep_north"]
    bulk_create_records(
        entity="store",
        rows=[
            {
                "id": uuid.uuid4(),
                "name": f"Kiosk am Markt {index}",
                "phone": "",
                "lat": 53.55 + (index % 17) * 0.00001,
                "lon": 9.99 + (index % 13) * 0.00001,
                "region": rep.region_id,
                "owner": rep.pk,
            }
            for index in range(count)
        ],
    )


def test_300_similar_prospects_are_bounded_and_paginated(client_for, people, settings):
    """Regression: 300 similar prospects made this answer quadratic and unbounded (32 s,
    35 MB measured in production settings). Now each store is compared with at most
    DUPLICATES_MAX_CANDIDATES neighbours and the answer comes in pages."""
    similar_prospects(people, 300)
    client = client_for("manager_north")

    started = time.perf_counter()
    response = client.get("/api/stores/duplicates")
    elapsed = time.perf_counter() - started

    assert response.status_code == 200, response.content
    body = response.json()
    most = settings.FIELDLINE["DUPLICATES_MAX_CANDIDATES"]
    assert 300 <= body["count_nearby"] <= 300 * most
    assert len(body["nearby"]) == settings.FIELDLINE["DUPLICATES_PAGE_SIZE"]
    assert body["next"] is not None
    assert len(response.content) < 200_000
    assert elapsed < 10
    print(f"\nduplicates, 300 similar prospects: {elapsed:.2f} s, {len(response.content)} bytes")

    pages, url, seen = 0, "/api/stores/duplicates?page_size=200", 0
    while url:
        page = client.get(url).json()
        seen += len(page["nearby"])
        url, pages = page["next"], pages + 1
    assert seen == body["count_nearby"]


@pytest.mark.parametrize("query", ["page=0", "page_size=201", "page=x", "page_size=-1"])
def test_bad_page_parameters_are_400(client_for, duplicates, query):
    assert client_for("manager_north").get(f"/api/stores/duplicates?{query}").status_code == 400
