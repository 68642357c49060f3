"""The scenarios of the sync protocol, each over HTTP through the test client."""

import uuid

import pytest

from surveys.models import SiteSurvey
from sync.bulk import bulk_create_records
from sync.models import ChangeLog, ConflictLog
from tests.sync.phone import Phone, now_iso

# Pulls read only committed changes (see sync.positions), so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def phones(client_for, world):
    """Two phones of rep-north-1, one of rep-north-2, each with a first full pull."""
    devices = {
        "a": Phone(client_for("rep_north")),
        "b": Phone(client_for("rep_north")),
        "other": Phone(client_for("rep_north_2")),
    }
    for phone in devices.values():
        phone.pull()
    return devices


def test_first_pull_brings_exactly_the_scope(phones, world):
    ids = world["rep_north"]
    expected = {(entity, str(record_id)) for entity, record_id in ids.items()}
    assert set(phones["a"].replica) == expected


def test_offline_create_is_seen_by_another_phone(phones, world):
    store = str(world["rep_north"]["store"])
    survey_id = phones["a"].create("survey", store=store, footfall_weekday=120)
    [result] = phones["a"].push()
    assert result["status"] == "applied"
    assert result["record"]["version"] == 1
    phones["b"].pull()
    assert phones["b"].records("survey")[survey_id]["footfall_weekday"] == 120
    phones["other"].pull()
    assert ("survey", survey_id) not in phones["other"].replica


def test_different_fields_are_merged(phones, world):
    survey = str(world["rep_north"]["survey"])
    phones["a"].update("survey", survey, footfall_weekday=410)
    phones["b"].update("survey", survey, area_m2=85.5)
    assert phones["a"].push()[0]["status"] == "applied"
    [result] = phones["b"].push()
    assert result["status"] == "merged"
    assert result["record"]["footfall_weekday"] == 410
    assert result["record"]["area_m2"] == 85.5
    assert "conflicts" not in result
    assert ConflictLog.objects.count() == 0


def test_same_field_later_clock_wins_and_loser_is_logged(phones, world):
    survey = str(world["rep_north"]["survey"])
    phones["b"].update("survey", survey, notes="written second")
    phones["a"].update("survey", survey, notes="written first")
    phones["a"].queue[0]["client_ts"] = now_iso(-60)
    phones["b"].queue[0]["client_ts"] = now_iso(-30)
    phones["b"].push()
    [result] = phones["a"].push()
    assert result["status"] == "conflict"
    assert result["record"]["notes"] == "written second"
    assert result["conflicts"] == [
        {
            "field": "notes",
            "client_value": "written first",
            "server_value": "written second",
            "kept": "server",
        }
    ]
    logged = ConflictLog.objects.get()
    assert (logged.client_value, logged.server_value, logged.kept) == (
        "written first",
        "written second",
        "server",
    )
    assert logged.device_id == phones["a"].device_id


def test_union_keeps_both_additions_and_a_removal(phones, world):
    survey = str(world["rep_north"]["survey"])  # equipment starts as ["microwave"]
    phones["a"].update("survey", survey, equipment=["microwave", "freezer"])
    phones["b"].update("survey", survey, equipment=["coffee_machine"])
    phones["a"].push()
    [result] = phones["b"].push()
    assert result["status"] == "conflict"
    assert result["record"]["equipment"] == ["coffee_machine", "freezer"]


def test_retry_after_a_lost_answer_changes_nothing(phones, world):
    store = str(world["rep_north"]["store"])
    visit_id = phones["a"].create("visit", store=store, check_in_at=now_iso(), purpose="routine")
    phones["a"].update("visit", visit_id, notes="met the owner")
    phones["a"].push(lose_answer=True)
    changes_before = ChangeLog.objects.count()
    results = phones["a"].push()
    assert [r["status"] for r in results] == ["applied", "applied"]
    # The answers say they are the earlier ones given again: nothing was applied now.
    assert [r.get("replayed") for r in results] == [True, True]
    assert results[1]["record"]["notes"] == "met the owner"
    assert ChangeLog.objects.count() == changes_before
    phones["b"].pull()
    assert len(phones["b"].records("visit")) == 2  # the fixture's and this one, once


def test_duplicate_mutation_id_inside_one_push_applies_once(client_for, world):
    client = client_for("rep_north")
    survey = str(world["rep_north"]["survey"])
    mutation = {
        "mutation_id": str(uuid.uuid4()),
        "entity": "survey",
        "op": "update",
        "record_id": survey,
        "base_version": 1,
        "fields": {"footfall_weekend": 77},
    }
    response = client.post(
        "/api/sync/push", {"device_id": "d1", "mutations": [mutation, mutation]}, format="json"
    )
    first, second = response.json()["results"]
    assert first["status"] == second["status"] == "applied"
    assert "replayed" not in first
    assert second["replayed"] is True
    assert SiteSurvey.objects.get(pk=survey).version == 2


def test_a_replayed_answer_says_so_and_a_fresh_one_does_not(client_for, world):
    """A developer who re-sends a fixed mutation id learns why nothing changed; another
    user's id is not reported as a replay (that would tell them it exists)."""
    survey = str(world["rep_north"]["survey"])
    mutation = {
        "mutation_id": str(uuid.uuid4()),
        "entity": "survey",
        "op": "update",
        "record_id": survey,
        "base_version": 1,
        "fields": {"footfall_weekend": 78},
    }
    body = {"device_id": "d1", "mutations": [mutation]}
    client = client_for("rep_north")
    [fresh] = client.post("/api/sync/push", body, format="json").json()["results"]
    assert fresh["status"] == "applied"
    assert "replayed" not in fresh
    changes = ChangeLog.objects.count()
    sent_again = {**mutation, "fields": {"footfall_weekend": 1}}
    again = client.post("/api/sync/push", {**body, "mutations": [sent_again]}, format="json")
    [replay] = again.json()["results"]
    assert replay == {**fresh, "replayed": True}
    assert SiteSurvey.objects.get(pk=survey).footfall_weekend == 78
    assert ChangeLog.objects.count() == changes
    rejected = {**mutation, "mutation_id": str(uuid.uuid4()), "fields": {"nope": 1}}
    [first_rejection] = client.post(
        "/api/sync/push", {**body, "mutations": [rejected]}, format="json"
    ).json()["results"]
    [rejection_again] = client.post(
        "/api/sync/push", {**body, "mutations": [rejected]}, format="json"
    ).json()["results"]
    assert first_rejection["status"] == "rejected"
    assert rejection_again == {**first_rejection, "replayed": True}
    other = client_for("rep_north_2").post("/api/sync/push", body, format="json")
    [foreign] = other.json()["results"]
    assert foreign["status"] == "rejected"
    assert "replayed" not in foreign


def test_edit_of_a_deleted_record_is_a_conflict_and_stays_deleted(phones, world):
    survey = str(world["rep_north"]["survey"])
    phones["a"].delete("survey", survey)
    phones["b"].update("survey", survey, notes="too late")
    assert phones["a"].push()[0]["status"] == "applied"
    [result] = phones["b"].push()
    assert result["status"] == "conflict"
    assert result["record"]["deleted"] is True
    assert SiteSurvey.objects.get(pk=survey).deleted is True
    assert ConflictLog.objects.filter(record_id=survey, client_value="too late").exists()
    phones["b"].pull()
    assert ("survey", survey) not in phones["b"].replica


def test_a_clock_years_ahead_cannot_win_every_conflict(phones, world):
    survey = str(world["rep_north"]["survey"])
    phones["a"].clock_offset_s = 5 * 365 * 24 * 3600
    phones["a"].update("survey", survey, notes="from the future")
    phones["a"].push()
    phones["b"].update("survey", survey, notes="honest clock")
    # b edited after a's push reached the server, but based on the old version.
    phones["b"].queue[0]["base_version"] = 1
    [result] = phones["b"].push()
    assert result["status"] == "conflict"
    assert result["record"]["notes"] == "honest clock"


def test_out_of_scope_write_answers_like_a_missing_id(client_for, world):
    client = client_for("rep_north")
    foreign = str(world["rep_south"]["survey"])
    body = {
        "device_id": "d1",
        "mutations": [
            {
                "mutation_id": str(uuid.uuid4()),
                "entity": "survey",
                "op": "update",
                "record_id": record_id,
                "base_version": 1,
                "fields": {"notes": "probe"},
            }
            for record_id in (foreign, str(uuid.uuid4()))
        ],
    }
    foreign_result, missing_result = client.post("/api/sync/push", body, format="json").json()[
        "results"
    ]
    for result in (foreign_result, missing_result):
        result.pop("mutation_id")
    assert (
        foreign_result
        == missing_result
        == {"status": "rejected", "errors": {"detail": "not found"}}
    )
    assert SiteSurvey.objects.get(pk=foreign).notes == ""


def test_reassignment_moves_records_between_phones(client_for, phones, world, people):
    store = str(world["rep_north"]["store"])
    manager = client_for("manager_north")
    response = manager.patch(f"/api/stores/{store}/", {"owner": people["rep_north_2"].pk})
    assert response.status_code == 200, response.content
    phones["a"].pull()
    moved = {"store", "survey", "visit", "photo", "followup"}
    remaining = {entity for entity, _ in phones["a"].replica}
    assert remaining == {"task"}  # the task stays assigned to rep-north-1
    phones["other"].pull()
    for entity in moved:
        assert (entity, str(world["rep_north"][entity])) in phones["other"].replica


def test_invalid_mutation_is_rejected_while_the_rest_apply(phones, world):
    store = str(world["rep_north"]["store"])
    survey = str(world["rep_north"]["survey"])
    phones["a"].update("survey", survey, footfall_weekday=-5)
    phones["a"].update("survey", survey, equipment=["warp_drive"])
    phones["a"].create("followup", store=store, due_date="2026-12-24", note="ok")
    bad_footfall, bad_equipment, good = phones["a"].push()
    assert bad_footfall["status"] == bad_equipment["status"] == "rejected"
    assert "footfall_weekday" in bad_footfall["errors"]
    assert "equipment" in bad_equipment["errors"]
    assert good["status"] == "applied"
    assert SiteSurvey.objects.get(pk=survey).footfall_weekday == 300


def test_more_than_500_mutations_is_413(client_for):
    client = client_for("rep_north")
    mutations = [{"mutation_id": str(uuid.uuid4())} for _ in range(501)]
    response = client.post("/api/sync/push", {"mutations": mutations}, format="json")
    assert response.status_code == 413
    assert "500" in response.json()["detail"]


def test_pull_is_compact(phones, world):
    survey = str(world["rep_north"]["survey"])
    for footfall in (1, 2, 3, 4):
        phones["a"].update("survey", survey, footfall_weekday=footfall)
        phones["a"].push()
    response = phones["b"].client.get("/api/sync/pull", {"cursor": phones["b"].cursor})
    changes = response.json()["changes"]
    assert [c["record"]["footfall_weekday"] for c in changes] == [4]


def test_cursor_from_another_epoch_asks_for_a_resync(phones):
    from sync.models import SyncCounter

    SyncCounter.objects.filter(name="epoch").update(value=12345)
    response = phones["a"].client.get("/api/sync/pull", {"cursor": phones["a"].cursor})
    assert response.status_code == 410
    assert response.json() == {"detail": "resync"}


def test_garbage_cursor_is_400(client_for, world):
    response = client_for("rep_north").get("/api/sync/pull", {"cursor": "not-a-cursor"})
    assert response.status_code == 400
    assert "cursor" in response.json()


def test_20000_changes_pull_in_pages_nothing_missing_or_repeated(client_for, people):
    rep = people["rep_north"]
    stores = [
        {
            "id": uuid.uuid4(),
            "name": f"Kiosk {n}",
            "lat": 53.5,
            "lon": 10.0,
            "region": "north",
            "owner": rep.pk,
        }
        for n in range(20_000)
    ]
    bulk_create_records(entity="store", rows=stores)
    phone = Phone(client_for("rep_north"))
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 5000, **({"cursor": cursor} if cursor else {})}
        body = phone.client.get("/api/sync/pull", params).json()
        seen += [change["record"]["id"] for change in body["changes"]]
        cursor = body["cursor"]
        if not body["has_more"]:
            break
    assert len(seen) == len(set(seen)) == 20_000
    assert set(seen) == {str(row["id"]) for row in stores}
