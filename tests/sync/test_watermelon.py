"""WatermelonDB's sync protocol (`/api/sync/watermelon`) over HTTP through the test client."""

import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from stores.models import Store
from surveys.models import Photo, SiteSurvey
from sync.models import AppliedMutation, ChangeLog
from sync.pull import watermark
from sync.watermelon.pull import plan_pull, pull_stream
from tests.conftest import create
from visits.models import FollowUp, Visit

# Pulls read only committed changes (see sync.positions), so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/sync/watermelon"
TABLES = {"stores", "surveys", "visits", "tasks", "photos", "followups"}


def read_pull(response) -> dict[str, Any]:
    assert response.status_code == 200, response.content
    assert response.streaming
    return orjson.loads(b"".join(response.streaming_content))


@dataclass
class Device:
    """A WatermelonDB database as the server sees it: rows by table, and the timestamp."""

    client: Any
    device_id: str = field(default_factory=lambda: f"wm-{uuid.uuid4().hex[:8]}")
    last_pulled_at: int | None = None
    tables: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    def pull(self, **params: Any) -> dict[str, Any]:
        query = {
            "last_pulled_at": "null" if self.last_pulled_at is None else self.last_pulled_at,
            "schema_version": 1,
            "migration": "null",
            "device_id": self.device_id,
            **params,
        }
        body = read_pull(self.client.get(URL, query))
        for table, changes in body["changes"].items():
            rows = self.tables.setdefault(table, {})
            for raw in [*changes["created"], *changes["updated"]]:
                rows[raw["id"]] = raw
            for record_id in changes["deleted"]:
                rows.pop(record_id, None)
        self.last_pulled_at = body["timestamp"]
        return body

    def push(self, changes: dict[str, dict[str, list]], *, last_pulled_at: Any = None):
        since = self.last_pulled_at if last_pulled_at is None else last_pulled_at
        full = {table: {"created": [], "updated": [], "deleted": []} for table in TABLES}
        for table, change_set in changes.items():
            full[table] = {"created": [], "updated": [], "deleted": [], **change_set}
        return self.client.post(
            f"{URL}?last_pulled_at={since}&device_id={self.device_id}",
            {"changes": full},
            format="json",
        )

    def row(self, table: str, record_id: Any, **changes: Any) -> dict[str, Any]:
        """A row as WatermelonDB pushes it: whole, with its local bookkeeping columns."""
        raw = dict(self.tables[table][str(record_id)])
        raw.update(changes)
        return {**raw, "_status": "updated", "_changed": ",".join(changes)}


def new_row(**values: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "_status": "created", "_changed": "", **values}


@pytest.fixture
def device(client_for, world) -> Device:
    phone = Device(client_for("rep_north"))
    phone.pull()
    return phone


@pytest.fixture
def second_device(client_for, world) -> Device:
    phone = Device(client_for("rep_north"))
    phone.pull()
    return phone


def ids(body: dict[str, Any], table: str, kind: str) -> set[str]:
    changes = body["changes"][table][kind]
    return set(changes) if kind == "deleted" else {raw["id"] for raw in changes}


def assert_each_id_once(body: dict[str, Any]) -> None:
    for table, changes in body["changes"].items():
        seen = [raw["id"] for raw in changes["created"] + changes["updated"]]
        seen += changes["deleted"]
        assert len(seen) == len(set(seen)), table


# --- pull -----------------------------------------------------------------------------------


def test_first_pull_has_watermelon_shape_and_everything_created(client_for, world):
    body = Device(client_for("rep_north")).pull()
    assert set(body) == {"changes", "timestamp"}
    assert isinstance(body["timestamp"], int)
    assert 0 < body["timestamp"] <= 2**53 - 1
    assert set(body["changes"]) == TABLES
    mine = world["rep_north"]
    for entity, record_id in mine.items():
        changes = body["changes"][f"{entity}s"]
        assert set(changes) == {"created", "updated", "deleted"}
        assert [raw["id"] for raw in changes["created"]] == [str(record_id)]
        assert changes["updated"] == changes["deleted"] == []
    store = body["changes"]["stores"]["created"][0]
    assert not {"_status", "_changed", "deleted"} & set(store)
    assert isinstance(store["updated_at"], int)
    assert store["version"] == 1


def test_list_and_object_fields_travel_as_json_strings(device, world):
    store = device.tables["stores"][str(world["rep_north"]["store"])]
    survey = device.tables["surveys"][str(world["rep_north"]["survey"])]
    assert (store["tags"], store["opening_hours"]) == ("[]", "{}")
    assert survey["equipment"] == '["microwave"]'
    assert (survey["competitors"], survey["customer_groups"]) == ("[]", "[]")
    assert survey["footfall_slots"] == "{}"
    assert survey["footfall_weekday"] == 300


def test_json_strings_are_read_back_on_push(device, world):
    survey = world["rep_north"]["survey"]
    row = device.row(
        "surveys",
        survey,
        equipment='["microwave","freezer"]',
        competitors='[{"kind":"bakery","name":"Corner shop","distance_m":120}]',
    )
    response = device.push({"surveys": {"updated": [row]}})
    assert response.status_code == 200, response.content
    saved = SiteSurvey.objects.get(pk=survey)
    assert sorted(saved.equipment) == ["freezer", "microwave"]
    assert saved.competitors[0]["name"] == "Corner shop"
    body = device.pull()
    [echo] = body["changes"]["surveys"]["updated"]
    assert sorted(orjson.loads(echo["equipment"])) == ["freezer", "microwave"]


def test_unreadable_json_string_is_refused(device, world):
    row = device.row("surveys", world["rep_north"]["survey"], equipment="[not json")
    response = device.push({"surveys": {"updated": [row]}})
    assert response.status_code == 409
    [refusal] = response.json()["rejected"]
    assert refusal["errors"] == {"equipment": ["Not a JSON string."]}


def test_incremental_pull_brings_only_changes_created_and_updated(
    client_for, device, second_device, world
):
    store = str(world["rep_north"]["store"])
    manager = client_for("manager_north")
    assert manager.patch(f"/api/stores/{store}/", {"grade": "A"}).status_code == 200
    visit = new_row(
        store=store,
        check_in_at="2026-11-30T08:00:00.000Z",
        check_out_at="2026-11-30T08:20:00.000Z",
        purpose="routine",
    )
    assert second_device.push({"visits": {"created": [visit]}}).status_code == 200

    body = device.pull()
    assert_each_id_once(body)
    assert [raw["grade"] for raw in body["changes"]["stores"]["updated"]] == ["A"]
    assert ids(body, "stores", "created") == set()
    assert ids(body, "visits", "created") == {visit["id"]}  # first seen here
    for table in TABLES - {"stores", "visits"}:
        assert body["changes"][table] == {"created": [], "updated": [], "deleted": []}

    echo = second_device.pull()  # its own record comes back as an update
    assert ids(echo, "visits", "updated") == {visit["id"]}
    assert ids(echo, "visits", "created") == set()
    assert device.pull()["changes"]["visits"] == {"created": [], "updated": [], "deleted": []}


def test_deletes_and_scope_exits_arrive_as_deleted(client_for, device, people, world):
    mine = world["rep_north"]
    response = device.push({"followups": {"deleted": [str(mine["followup"])]}})
    assert response.status_code == 200, response.content
    manager = client_for("manager_north")
    response = manager.patch(f"/api/stores/{mine['store']}/", {"owner": people["rep_north_2"].pk})
    assert response.status_code == 200, response.content

    body = device.pull()
    assert_each_id_once(body)
    for entity in ("store", "survey", "visit", "photo", "followup"):
        assert ids(body, f"{entity}s", "deleted") == {str(mine[entity])}, entity
    assert body["changes"]["tasks"]["deleted"] == []  # still assigned to this rep
    assert set(device.tables["stores"]) == set()
    assert set(device.tables["tasks"]) == {str(mine["task"])}


def test_records_moving_into_scope_arrive_as_created(client_for, people, world):
    other = Device(client_for("rep_north_2"))
    other.pull()
    mine = world["rep_north"]
    response = client_for("manager_north").patch(
        f"/api/stores/{mine['store']}/", {"owner": people["rep_north_2"].pk}
    )
    assert response.status_code == 200, response.content
    body = other.pull()
    for entity in ("store", "survey", "visit", "photo", "followup"):
        assert ids(body, f"{entity}s", "created") == {str(mine[entity])}, entity
        assert ids(body, f"{entity}s", "updated") == set()


def test_first_pull_leaves_out_tombstones(client_for, device, world):
    device.push({"followups": {"deleted": [str(world["rep_north"]["followup"])]}})
    body = Device(client_for("rep_north")).pull()
    for changes in body["changes"].values():
        assert changes["deleted"] == []
    assert ids(body, "followups", "created") == set()


def test_first_pull_is_streamed_in_pages_with_a_bounded_number_of_queries(people):
    rep = people["rep_north"]
    for n in range(250):
        create("store", name=f"Kiosk {n}", lat=53.5, lon=10.0, region="north", owner=rep.pk)
    plan = plan_pull(user=rep, last_pulled_at=None, migration=None, device_id="d")
    with CaptureQueriesContext(connection) as queries:
        body = orjson.loads(b"".join(pull_stream(plan=plan, page_rows=100)))
    assert len(body["changes"]["stores"]["created"]) == 250
    # Three pages of stores, one empty page for each other table: no query per row.
    assert len(queries) <= 10


def test_migration_sends_new_tables_and_tables_with_new_columns_whole(device, world):
    migration = orjson.dumps(
        {"from": 1, "tables": ["followups"], "columns": [{"table": "surveys", "columns": ["x"]}]}
    ).decode()
    body = device.pull(schema_version=2, migration=migration)
    assert ids(body, "followups", "created") == {str(world["rep_north"]["followup"])}
    assert ids(body, "surveys", "updated") == {str(world["rep_north"]["survey"])}
    assert body["changes"]["stores"] == {"created": [], "updated": [], "deleted": []}


@pytest.mark.parametrize(
    "params",
    [
        {"last_pulled_at": "yesterday"},
        {"last_pulled_at": "-4"},
        {"last_pulled_at": "9" * 20},
        {"last_pulled_at": "null", "schema_version": "two"},
        {"last_pulled_at": "null", "migration": "{not json"},
        {"last_pulled_at": "null", "migration": '{"from": "1", "tables": []}'},
        {"last_pulled_at": "null", "device_id": "x" * 65},
    ],
)
def test_unreadable_pull_parameters_are_400(client_for, world, params):
    response = client_for("rep_north").get(URL, params)
    assert response.status_code == 400
    assert set(response.json()) & {"last_pulled_at", "schema_version", "migration", "device_id"}


def test_timestamp_from_another_database_gets_a_replacement_pull(device, world):
    body = device.pull(last_pulled_at=watermark() + 10_000)
    assert body["experimentalStrategy"] == "replacement"
    assert ids(body, "stores", "created") == {str(world["rep_north"]["store"])}
    assert body["timestamp"] <= watermark()


# --- push -----------------------------------------------------------------------------------


def test_created_rows_are_created_and_seen_by_another_device(device, second_device, world):
    store = str(world["rep_north"]["store"])
    survey = new_row(
        store=store,
        footfall_weekday=120,
        footfall_weekend=None,
        equipment='["oven"]',
        competitors="",
        customer_groups="[]",
        notes="",
        review_status="pending",  # a rep may not set it, but it is the default: left out
        distance_m=None,
        version=0,
        updated_at=0,
    )
    response = device.push({"surveys": {"created": [survey]}})
    assert response.status_code == 200, response.content
    assert response.json() == {"accepted": 1, "conflicts": []}
    saved = SiteSurvey.objects.get(pk=survey["id"])
    assert (saved.footfall_weekday, saved.equipment, saved.version) == (120, ["oven"], 1)
    body = second_device.pull()
    [raw] = body["changes"]["surveys"]["created"]
    assert (raw["id"], raw["equipment"]) == (survey["id"], '["oven"]')


def test_a_created_row_whose_id_exists_is_an_update(device, world):
    store = str(world["rep_north"]["store"])
    visit = new_row(
        store=store,
        check_in_at="2026-11-30T08:00:00Z",
        check_out_at="2026-11-30T08:20:00Z",
        purpose="routine",
    )
    first = device.push({"visits": {"created": [visit]}})
    assert first.status_code == 200, first.content
    changes = ChangeLog.objects.count()
    # The answer was lost: the phone pushes the same row as created again.
    again = device.push({"visits": {"created": [visit]}})
    assert again.status_code == 200, again.content
    assert ChangeLog.objects.count() == changes
    assert Visit.objects.get(pk=visit["id"]).version == 1
    # Edited meanwhile, and pushed as created once more: an update of it.
    edited = device.push({"visits": {"created": [{**visit, "notes": "met the owner"}]}})
    assert edited.status_code == 200, edited.content
    saved = Visit.objects.get(pk=visit["id"])
    assert (saved.notes, saved.version) == ("met the owner", 2)
    assert ChangeLog.objects.filter(record_id=visit["id"]).count() == 2


@pytest.mark.parametrize("version_column", [True, False], ids=["with-version", "without-version"])
def test_whole_row_push_merges_with_a_managers_edit_made_after_the_pull(
    client_for, device, world, version_column
):
    survey = str(world["rep_north"]["survey"])
    manager = client_for("manager_north")
    # (A verdict other than `approved`: a rep's edit of an approved survey sends it back
    # to review, see tests/surveys/test_approved_surveys.py.)
    response = manager.patch(f"/api/surveys/{survey}/", {"review_status": "has_issues"})
    assert response.status_code == 200, response.content
    # The phone pulled before the manager's edit and pushes the whole row it has; an app
    # whose schema has no `version` column relies on last_pulled_at alone.
    row = device.row("surveys", survey, notes="back entrance blocked")
    if not version_column:
        del row["version"]
    assert row["review_status"] == "pending"
    response = device.push({"surveys": {"updated": [row]}})
    assert response.status_code == 200, response.content
    assert response.json()["conflicts"] == []
    saved = SiteSurvey.objects.get(pk=survey)
    assert (saved.review_status, saved.notes) == ("has_issues", "back entrance blocked")
    pushed = ChangeLog.objects.filter(record_id=survey, source="push").get()
    assert pushed.new_values == {"notes": "back entrance blocked"}
    body = device.pull()
    [merged] = body["changes"]["surveys"]["updated"]
    assert (merged["review_status"], merged["notes"]) == ("has_issues", "back entrance blocked")


def test_unchanged_fields_of_a_row_never_reach_the_engine(device, world):
    survey = str(world["rep_north"]["survey"])
    row = device.row("surveys", survey)
    row["equipment"] = '["microwave"]'
    row["captured_at"] = ""  # a non-optional string column's empty value: null
    response = device.push({"surveys": {"updated": [row]}})
    assert response.status_code == 200, response.content
    assert ChangeLog.objects.filter(record_id=survey, source="push").count() == 0


def test_same_field_edited_on_both_sides_is_merged_by_its_policy(client_for, device, world):
    survey = str(world["rep_north"]["survey"])
    other = Device(client_for("rep_north"))
    other.pull()
    response = other.push(
        {"surveys": {"updated": [other.row("surveys", survey, equipment='["microwave","oven"]')]}}
    )
    assert response.status_code == 200
    row = device.row("surveys", survey, equipment='["microwave","freezer"]')
    response = device.push({"surveys": {"updated": [row]}})
    assert response.status_code == 200, response.content
    [conflict] = response.json()["conflicts"]
    assert (conflict["table"], conflict["id"], conflict["field"]) == (
        "surveys",
        survey,
        "equipment",
    )
    assert sorted(SiteSurvey.objects.get(pk=survey).equipment) == ["freezer", "microwave", "oven"]


def test_an_older_version_column_is_the_base(client_for, device, world):
    """The phone says which version it has: changes after it are not overwritten."""
    survey = str(world["rep_north"]["survey"])
    other = Device(client_for("rep_north"))
    other.pull()
    other.push({"surveys": {"updated": [other.row("surveys", survey, footfall_weekend=90)]}})
    stale = device.row("surveys", survey, notes="written on a stale copy")
    assert stale["version"] == 1
    device.pull()  # the timestamp moves on, but the row pushed is still the old one
    response = device.push({"surveys": {"updated": [stale]}})
    assert response.status_code == 200, response.content
    saved = SiteSurvey.objects.get(pk=survey)
    assert (saved.footfall_weekend, saved.notes) == (90, "written on a stale copy")


def test_refusals_are_409_with_reasons_and_nothing_of_them_applied(device, world):
    mine = world["rep_north"]
    good = device.row("surveys", mine["survey"], notes="ok")
    bad = device.row("visits", mine["visit"], notes="half", check_in_lat=123.0)
    orphan = new_row(
        store=str(uuid.uuid4()),
        check_in_at="2026-11-30T08:00:00Z",
        check_out_at="2026-11-30T08:20:00Z",
    )
    store_delete = str(mine["store"])  # a rep may not delete stores
    response = device.push(
        {
            "surveys": {"updated": [good]},
            "visits": {"updated": [bad], "created": [orphan]},
            "stores": {"deleted": [store_delete]},
        }
    )
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["accepted"] == 1
    rejected = {(r["table"], r["id"]): r["errors"] for r in body["rejected"]}
    assert set(rejected) == {
        ("visits", str(mine["visit"])),
        ("visits", orphan["id"]),
        ("stores", store_delete),
    }
    assert "check_in_lat" in rejected[("visits", str(mine["visit"]))]
    assert rejected[("visits", orphan["id"])] == {"store": ["Not found."]}
    assert "detail" in rejected[("stores", store_delete)]
    assert sorted(body["experimentalRejectedIds"]["visits"]) == sorted(
        [str(mine["visit"]), orphan["id"]]
    )
    assert SiteSurvey.objects.get(pk=mine["survey"]).notes == "ok"
    visit = Visit.objects.get(pk=mine["visit"])
    assert (visit.notes, visit.check_in_lat, visit.version) == ("", None, 1)
    assert not Visit.objects.filter(pk=orphan["id"]).exists()
    assert Store.objects.get(pk=store_delete).deleted is False


def test_a_retried_push_is_idempotent(device, world):
    mine = world["rep_north"]
    changes = {
        "surveys": {"updated": [device.row("surveys", mine["survey"], footfall_weekday=410)]},
        "visits": {"updated": [device.row("visits", mine["visit"], check_in_lat=123.0)]},
    }
    first = device.push(changes)
    assert first.status_code == 409
    logged = (ChangeLog.objects.count(), AppliedMutation.objects.count())
    again = device.push(changes)
    assert again.status_code == 409
    assert again.json() == first.json()
    assert (ChangeLog.objects.count(), AppliedMutation.objects.count()) == logged
    # The stock client pulls, then pushes the same local changes with the new timestamp.
    device.pull()
    after_pull = device.push(changes)
    assert after_pull.status_code == 409
    assert [r["table"] for r in after_pull.json()["rejected"]] == ["visits"]
    assert ChangeLog.objects.count() == logged[0]
    assert SiteSurvey.objects.get(pk=mine["survey"]).version == 2


def test_deletes_apply_and_a_delete_of_what_is_gone_is_accepted(device, second_device, world):
    visit = str(world["rep_north"]["visit"])
    gone = str(uuid.uuid4())
    response = device.push({"visits": {"deleted": [visit, gone]}})
    assert response.status_code == 200, response.content
    assert response.json()["accepted"] == 2
    assert Visit.objects.get(pk=visit).deleted is True
    assert ids(second_device.pull(), "visits", "deleted") == {visit}


def test_out_of_scope_rows_are_refused_like_missing_ones(client_for, device, world):
    foreign = world["rep_south"]["survey"]
    south = Device(client_for("rep_south"))
    south.pull()
    row = south.row("surveys", foreign, notes="probe")
    response = device.push({"surveys": {"updated": [row]}})
    assert response.status_code == 409
    assert response.json()["rejected"][0]["errors"] == {"detail": "not found"}
    assert SiteSurvey.objects.get(pk=foreign).notes == ""


def test_parents_are_applied_before_children(device, world):
    store = new_row(name="New kiosk", lat=53.5, lon=10.0, region="north", tags="[]")
    visit = new_row(
        store=store["id"],
        check_in_at="2026-11-30T08:00:00Z",
        check_out_at="2026-11-30T08:20:00Z",
    )
    followup = new_row(store=store["id"], visit=visit["id"], due_date="2026-12-24", note="x")
    response = device.push(
        {
            "followups": {"created": [followup]},
            "visits": {"created": [visit]},
            "stores": {"created": [store]},
        }
    )
    assert response.status_code == 200, response.content
    assert FollowUp.objects.get(pk=followup["id"]).visit_id == uuid.UUID(visit["id"])


def test_unknown_tables_are_ignored_when_empty_and_refused_with_changes(device, world):
    empty = device.push({"local_settings": {"created": [], "updated": [], "deleted": []}})
    assert empty.status_code == 200
    # An app's local-only table: said, not refused.
    assert empty.json()["unknown"]["tables"] == ["local_settings"]
    refused = device.push({"local_settings": {"created": [new_row(theme="dark")]}})
    assert refused.status_code == 409
    assert refused.json()["rejected"][0]["errors"] == {"detail": "Unknown table."}
    assert refused.json()["unknown"]["tables"] == ["local_settings"]
    assert "unknown tables: local_settings" in refused.json()["detail"]


def test_a_push_naming_no_table_the_server_has_is_409_listing_them(device, world):
    """A typo of the envelope or of every table name applied nothing: it must not answer
    200, which the app takes for "synced"."""
    mine = world["rep_north"]
    row = device.row("surveys", mine["survey"], notes="lost")
    for changes in (
        {"survey": {"created": [], "updated": [row], "deleted": []}},
        {"change": {"surveys": {"updated": [row]}}},
    ):
        response = device.client.post(
            f"{URL}?last_pulled_at={device.last_pulled_at}", {"changes": changes}, format="json"
        )
        assert response.status_code == 409, response.content
        body = response.json()
        assert body["unknown"]["tables"] == list(changes)
        assert "surveys" in body["unknown"]["known_tables"]
        assert body["detail"].startswith("The push names what the server does not have")
    assert SiteSurvey.objects.get(pk=mine["survey"]).notes != "lost"


def test_unknown_columns_are_409_listing_them_and_nothing_of_their_rows_applied(device, world):
    mine = world["rep_north"]
    row = device.row("surveys", mine["survey"], notes="with a typo", foot_fall=12)
    good = device.row("visits", mine["visit"], notes="fine")
    response = device.push({"surveys": {"updated": [row]}, "visits": {"updated": [good]}})
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["unknown"]["columns"] == {"surveys": ["foot_fall"]}
    assert body["unknown"]["tables"] == []
    assert "surveys.foot_fall" in body["detail"]
    [refused] = body["rejected"]
    assert refused["errors"] == {"foot_fall": ["Unknown field."]}
    assert body["accepted"] == 1
    assert SiteSurvey.objects.get(pk=mine["survey"]).notes != "with a typo"
    assert Visit.objects.get(pk=mine["visit"]).notes == "fine"


def test_push_body_may_be_the_changes_themselves_in_any_content_type(device, world):
    row = device.row("surveys", world["rep_north"]["survey"], notes="plain fetch")
    body = orjson.dumps({"surveys": {"created": [], "updated": [row], "deleted": []}})
    response = device.client.generic(
        "POST",
        f"{URL}?last_pulled_at={device.last_pulled_at}",
        body,
        content_type="text/plain;charset=UTF-8",
        HTTP_X_DEVICE_ID="header-device",
    )
    assert response.status_code == 200, response.content
    assert ChangeLog.objects.get(source="push").device_id == "header-device"


@pytest.mark.parametrize(
    ("query", "body"),
    [
        ("", {"changes": {}}),
        ("?last_pulled_at=soon", {"changes": {}}),
        ("?last_pulled_at=null", ["not", "an", "object"]),
        ("?last_pulled_at=null", {"changes": {"surveys": {"created": "all"}}}),
    ],
)
def test_unreadable_pushes_are_400(client_for, world, query, body):
    response = client_for("rep_north").post(f"{URL}{query}", body, format="json")
    assert response.status_code == 400


def test_push_on_a_timestamp_from_another_database_asks_for_a_resync(device, world):
    response = device.push({}, last_pulled_at=watermark() + 10_000)
    assert response.status_code == 410
    assert response.json() == {"detail": "resync"}


def test_device_id_defaults_to_one_per_user(device, people, world):
    row = device.row("surveys", world["rep_north"]["survey"], notes="no device id")
    response = device.client.post(
        f"{URL}?last_pulled_at={device.last_pulled_at}",
        {"changes": {"surveys": {"created": [], "updated": [row], "deleted": []}}},
        format="json",
    )
    assert response.status_code == 200, response.content
    change = ChangeLog.objects.get(source="push")
    assert change.device_id == f"watermelon-{people['rep_north'].pk}"


def test_timestamps_do_not_move_backwards(device, second_device, world):
    before = device.last_pulled_at
    second_device.push({"visits": {"deleted": [str(world["rep_north"]["visit"])]}})
    device.pull()
    assert device.last_pulled_at > before


def test_a_push_costs_the_same_number_of_queries_for_5_or_25_rows(client_for, people, world):
    store = world["rep_north"]["store"]
    surveys = [create("survey", store=store, footfall_weekday=n) for n in range(25)]
    phone = Device(client_for("rep_north"))
    phone.pull()

    def queries_for(count: int, notes: str) -> int:
        rows = [phone.row("surveys", survey, notes=notes) for survey in surveys[:count]]
        with CaptureQueriesContext(connection) as queries:
            response = phone.push({"surveys": {"updated": rows}})
        assert response.status_code == 200, response.content
        return len(queries)

    assert queries_for(5, "five") == queries_for(25, "twenty-five")
    assert SiteSurvey.objects.filter(notes="twenty-five").count() == 25


def test_a_manager_pulls_the_region(client_for, world):
    body = Device(client_for("manager_north")).pull()
    north = {str(world[who]["store"]) for who in ("rep_north", "rep_north_2")}
    assert ids(body, "stores", "created") == north


def test_a_jpeg_photo_can_be_created(device, world):
    """Its content_type equals the column's default ("image/jpeg"); the serializer still
    requires it, so it must reach the engine rather than be left to the default."""
    photo = new_row(
        survey=str(world["rep_north"]["survey"]),
        visit=None,
        section="storefront",
        sha256="e" * 64,
        content_type="image/jpeg",
        taken_at=None,
        lat=None,
        lon=None,
    )

    response = device.push({"photos": {"created": [photo]}})

    assert response.status_code == 200, response.content
    stored = Photo.objects.get(pk=photo["id"])
    assert (stored.content_type, stored.sha256) == ("image/jpeg", "e" * 64)
