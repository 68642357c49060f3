"""Access control of the REST resources: scope (404, never a leak), role rules (403) and
authentication (401), each checked against the database before and after."""

import datetime as dt
import uuid
from typing import Any

import pytest
from django.urls import get_resolver
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from sync.models import ChangeLog
from sync.registry import get_entity
from sync.wire import wire_value
from tests.conftest import create

ENTITIES = ("store", "survey", "visit", "task", "photo", "followup")
REPS = ("rep_north", "rep_north_2", "rep_south")
CALLERS = ("rep_north", "rep_north_2", "rep_south", "manager_north", "manager_south", "hq")
REGION = {"rep_north": "north", "rep_north_2": "north", "rep_south": "south"}
FIELD_ROLES = ("rep", "hq")
FORBIDDEN_FIELD = ["Your role may not change this field."]


def role_of(who: str) -> str:
    return who.split("_")[0]


def owners_visible_to(who: str) -> tuple[str, ...]:
    """Whose `world` records `who` may see: a rep their own, a manager their region's."""
    if who == "hq":
        return REPS
    if who.startswith("manager_"):
        return tuple(rep for rep in REPS if REGION[rep] == who.removeprefix("manager_"))
    return (who,)


OUT_OF_SCOPE = [(who, rep) for who in CALLERS for rep in REPS if rep not in owners_visible_to(who)]
IN_SCOPE = [(who, rep) for who in CALLERS for rep in owners_visible_to(who)]


def list_url(entity: str) -> str:
    return f"/api/{entity}s/"


def detail_url(entity: str, record_id: Any) -> str:
    return f"/api/{entity}s/{record_id}/"


def row(entity: str, record_id: Any) -> dict[str, Any]:
    """Every column of one record, as stored."""
    spec = get_entity(entity)
    assert spec is not None
    return spec.model.objects.filter(pk=record_id).values().get()


def count(entity: str) -> int:
    spec = get_entity(entity)
    assert spec is not None
    return spec.model.objects.count()


def stored(entity: str, record_id: Any, name: str) -> Any:
    """A field's stored value in its wire form."""
    spec = get_entity(entity)
    assert spec is not None
    record = spec.model.objects.get(pk=record_id)
    return wire_value(getattr(record, spec.field(name).attname))


def listed_ids(client: APIClient, entity: str, query: str = "") -> set[str]:
    response = client.get(f"{list_url(entity)}?page_size=1000{query}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["next"] is None
    ids = [item["id"] for item in body["results"]]
    assert len(ids) == len(set(ids)) == body["count"]
    return set(ids)


def edit_body(entity: str, role: str) -> dict[str, Any]:
    """An edit the role may make to a record in its scope."""
    if entity == "store":
        return {"opening_hours_proposed": {"mon": [["08:00", "18:00"]]}}
    if entity == "survey":
        return {"review_status": "approved"} if role == "manager" else {"notes": "edited"}
    if entity == "task":
        return {"status": "accepted"}
    # Visits, photos and follow-ups: managers may not edit them at all.
    return {
        "visit": {"notes": "edited"},
        "photo": {"section": "shelf"},
        "followup": {"done": True},
    }[entity]


# --- scope: reading ---------------------------------------------------------------------


@pytest.mark.parametrize("entity", ENTITIES)
@pytest.mark.parametrize("who", CALLERS)
def test_list_holds_exactly_the_callers_scope(client_for, world, who, entity):
    expected = {str(world[rep][entity]) for rep in owners_visible_to(who)}

    assert listed_ids(client_for(who), entity) == expected


@pytest.mark.parametrize("entity", ENTITIES)
@pytest.mark.parametrize(("who", "owner"), IN_SCOPE)
def test_detail_in_scope_is_the_stored_record(client_for, world, who, owner, entity):
    record_id = world[owner][entity]

    response = client_for(who).get(detail_url(entity, record_id))

    assert response.status_code == 200
    assert response.json()["id"] == str(record_id)
    assert response.json()["version"] == row(entity, record_id)["version"] == 1


@pytest.mark.parametrize("method", ["get", "patch", "put", "delete"])
@pytest.mark.parametrize("entity", ENTITIES)
@pytest.mark.parametrize(("who", "owner"), OUT_OF_SCOPE)
def test_object_outside_scope_answers_404_and_is_unchanged(
    client_for, world, who, owner, entity, method
):
    record_id = world[owner][entity]
    before, changes = row(entity, record_id), ChangeLog.objects.count()
    client = client_for(who)
    body = edit_body(entity, role_of(who)) if method in ("patch", "put") else None

    response = getattr(client, method)(detail_url(entity, record_id), body, format="json")
    unknown = getattr(client, method)(detail_url(entity, uuid.uuid4()), body, format="json")

    assert response.status_code == 404
    assert unknown.status_code == 404
    assert response.json() == unknown.json()
    after = row(entity, record_id)
    assert after["version"] == before["version"] == 1
    assert after == before
    assert ChangeLog.objects.count() == changes


@pytest.mark.parametrize("entity", ENTITIES)
@pytest.mark.parametrize(("who", "owner"), OUT_OF_SCOPE)
def test_head_and_options_outside_scope_answer_as_for_an_unknown_id(
    client_for, world, who, owner, entity
):
    record_id = world[owner][entity]
    client = client_for(who)

    head = client.head(detail_url(entity, record_id))
    options = client.options(detail_url(entity, record_id))
    unknown = client.options(detail_url(entity, uuid.uuid4()))

    assert head.status_code == 404
    assert options.status_code == unknown.status_code == 200
    assert options.json() == unknown.json()
    assert "PUT" not in options.json().get("actions", {})


def test_rep_sees_tasks_assigned_to_them_not_their_stores_tasks(client_for, world, people):
    """A task on rep_north's store assigned to rep_north_2 is rep_north_2's; one on
    rep_north_2's store assigned to rep_north is rep_north's, without the store."""
    theirs_on_mine = create(
        "task",
        store=world["rep_north"]["store"],
        assignee=people["rep_north_2"].pk,
        type="survey",
        title="Survey for a colleague",
    )
    mine_on_theirs = create(
        "task",
        store=world["rep_north_2"]["store"],
        assignee=people["rep_north"].pk,
        type="callback",
        title="Call them",
    )
    rep = client_for("rep_north")

    assert listed_ids(rep, "task") == {str(world["rep_north"]["task"]), str(mine_on_theirs)}
    assert rep.get(detail_url("task", theirs_on_mine)).status_code == 404
    assert rep.get(detail_url("task", mine_on_theirs)).status_code == 200
    assert rep.get(detail_url("store", world["rep_north_2"]["store"])).status_code == 404
    assert listed_ids(client_for("rep_north_2"), "task") == {
        str(world["rep_north_2"]["task"]),
        str(theirs_on_mine),
    }
    assert listed_ids(client_for("manager_north"), "task") == {
        str(world["rep_north"]["task"]),
        str(world["rep_north_2"]["task"]),
        str(theirs_on_mine),
        str(mine_on_theirs),
    }


def test_deleted_records_leave_lists_and_details(client_for, world):
    rep = client_for("rep_north")
    visit = world["rep_north"]["visit"]
    assert rep.delete(detail_url("visit", visit)).status_code == 204

    assert row("visit", visit)["deleted"] is True
    assert row("visit", visit)["version"] == 2
    assert listed_ids(rep, "visit") == set()
    assert rep.get(detail_url("visit", visit)).status_code == 404
    assert rep.patch(detail_url("visit", visit), {"notes": "x"}, format="json").status_code == 404
    assert row("visit", visit)["version"] == 2


# Filters on a reference answer the same for another scope's id as for an unknown one.
REFERENCE_FILTERS = [
    ("survey", "store", "store"),
    ("visit", "store", "store"),
    ("task", "store", "store"),
    ("followup", "store", "store"),
    ("followup", "visit", "visit"),
    ("photo", "survey", "survey"),
    ("photo", "visit", "visit"),
]


@pytest.mark.parametrize(("entity", "param", "target"), REFERENCE_FILTERS)
@pytest.mark.parametrize(("who", "owner"), OUT_OF_SCOPE)
def test_reference_filter_reveals_nothing_about_other_scopes(
    client_for, world, who, owner, entity, param, target
):
    if (entity, param) == ("followup", "visit"):
        create(
            "followup",
            store=world[owner]["store"],
            visit=world[owner]["visit"],
            due_date="2026-12-01",
        )
    client = client_for(who)

    response = client.get(f"{list_url(entity)}?{param}={world[owner][target]}")
    unknown = client.get(f"{list_url(entity)}?{param}={uuid.uuid4()}")

    assert response.status_code == unknown.status_code == 200
    assert (
        response.json()
        == unknown.json()
        == {
            "count": 0,
            "next": None,
            "previous": None,
            "results": [],
        }
    )


@pytest.mark.parametrize(("entity", "param"), [("store", "owner"), ("task", "assignee")])
@pytest.mark.parametrize(("who", "owner"), OUT_OF_SCOPE)
def test_user_filter_reveals_nothing_about_other_scopes(
    client_for, world, people, who, owner, entity, param
):
    client = client_for(who)

    response = client.get(f"{list_url(entity)}?{param}={people[owner].pk}")
    unknown = client.get(f"{list_url(entity)}?{param}=987654")

    assert response.status_code == unknown.status_code == 200
    assert response.json() == unknown.json()
    assert response.json()["results"] == []


def test_reference_filter_in_scope_selects(client_for, world):
    client = client_for("manager_north")

    assert listed_ids(client, "survey", f"&store={world['rep_north_2']['store']}") == {
        str(world["rep_north_2"]["survey"])
    }
    assert listed_ids(client, "photo", f"&survey={world['rep_north']['survey']}") == {
        str(world["rep_north"]["photo"])
    }


# --- roles: what a role may not do at all -------------------------------------------------


def create_body(entity: str, world: dict, people: dict, owner: str = "rep_north") -> dict:
    mine = world[owner]
    return {
        "store": {"name": "New kiosk", "lat": 53.56, "lon": 9.98, "region": REGION[owner]},
        "survey": {"store": str(mine["store"]), "footfall_weekday": 120},
        "visit": {"store": str(mine["store"]), "check_in_at": "2026-11-03T10:00:00Z"},
        "task": {
            "store": str(mine["store"]),
            "assignee": people[owner].pk,
            "type": "survey",
            "title": "Survey it",
        },
        "photo": {"visit": str(mine["visit"]), "sha256": "b" * 64, "content_type": "image/png"},
        "followup": {"store": str(mine["store"]), "due_date": "2026-12-24"},
    }[entity]


CREATE_FORBIDDEN = [
    pytest.param(
        "manager_north", entity, full, id=f"manager-{entity}-{'full' if full else 'empty'}"
    )
    for entity in ("survey", "visit", "photo", "followup")
    for full in (True, False)
] + [
    pytest.param("rep_north", "task", True, id="rep-task-full"),
    pytest.param("rep_north", "task", False, id="rep-task-empty"),
]


@pytest.mark.parametrize(("who", "entity", "full"), CREATE_FORBIDDEN)
def test_create_the_role_may_not_make_is_403(client_for, world, people, who, entity, full):
    before, changes = count(entity), ChangeLog.objects.count()
    body = create_body(entity, world, people) if full else {}

    response = client_for(who).post(list_url(entity), body, format="json")

    assert response.status_code == 403
    assert response.json() == {"detail": "Your role may not create this record."}
    assert count(entity) == before
    assert ChangeLog.objects.count() == changes


DELETE_FORBIDDEN = [
    ("rep_north", "store"),
    ("rep_north", "task"),
    ("manager_north", "survey"),
    ("manager_north", "visit"),
    ("manager_north", "photo"),
    ("manager_north", "followup"),
]


@pytest.mark.parametrize(("who", "entity"), DELETE_FORBIDDEN)
def test_delete_the_role_may_not_make_is_403(client_for, world, who, entity):
    record_id = world["rep_north"][entity]
    before, changes = row(entity, record_id), ChangeLog.objects.count()

    response = client_for(who).delete(detail_url(entity, record_id))

    assert response.status_code == 403
    assert response.json() == {"detail": "Your role may not delete this record."}
    assert row(entity, record_id) == before
    assert ChangeLog.objects.count() == changes


def forbidden_edits() -> list:
    rep_store = {
        "name": "Renamed",
        "chain_name": "Chain",
        "address": "Elsewhere 1",
        "lat": 53.0,
        "lon": 10.0,
        "region": "south",
        "owner": "rep_north_2",
        "status": "active",
        "trade_area_type": "school",
        "grade": "A",
        "segment": "head_active",
        "tags": ["vip"],
        "geofence_radius_m": 50.0,
    }
    rep_task = {
        "store": "other_store",
        "assignee": "rep_north_2",
        "type": "callback",
        "title": "Renamed",
        "priority": 1,
        "due_date": "2026-12-31",
    }
    cases = [("rep_north", "store", {name: value}) for name, value in rep_store.items()]
    cases += [("rep_north", "task", {name: value}) for name, value in rep_task.items()]
    cases += [
        ("rep_north", "survey", {"review_status": "approved"}),
        ("manager_north", "store", {"segment": "head_active"}),
        ("manager_north", "survey", {"notes": "manager notes"}),
        ("manager_north", "survey", {"footfall_weekday": 1}),
        ("manager_north", "visit", {"notes": "manager notes"}),
        ("manager_north", "photo", {"section": "shelf"}),
        ("manager_north", "followup", {"done": True}),
    ]
    return [
        pytest.param(who, entity, body, id=f"{who}-{entity}-{'-'.join(body)}")
        for who, entity, body in cases
    ]


def resolve(value: Any, world: dict, people: dict) -> Any:
    """Names of people and records in a case table, as ids."""
    if isinstance(value, str) and value in people:
        return people[value].pk
    if value == "other_store":
        return str(world["rep_north_2"]["store"])
    return value


@pytest.mark.parametrize("method", ["patch", "put"])
@pytest.mark.parametrize(("who", "entity", "body"), forbidden_edits())
def test_edit_of_a_field_the_role_may_not_change_is_403(
    client_for, world, people, who, entity, body, method
):
    record_id = world["rep_north"][entity]
    body = {name: resolve(value, world, people) for name, value in body.items()}
    before, changes = row(entity, record_id), ChangeLog.objects.count()

    response = getattr(client_for(who), method)(detail_url(entity, record_id), body, format="json")

    assert response.status_code == 403
    assert response.json() == {name: FORBIDDEN_FIELD for name in body}
    assert row(entity, record_id) == before
    assert ChangeLog.objects.count() == changes


@pytest.mark.parametrize(
    ("who", "entity", "extra"),
    [
        ("rep_north", "survey", {"review_status": "approved"}),
        ("rep_north", "store", {"grade": "A"}),
        ("rep_north", "store", {"status": "active"}),
        ("rep_north", "store", {"segment": "head_active"}),
        ("manager_north", "store", {"segment": "head_active"}),
    ],
    ids=lambda value: "-".join(value) if isinstance(value, dict) else str(value),
)
def test_create_setting_a_field_the_role_may_not_set_is_403(
    client_for, world, people, who, entity, extra
):
    before, changes = count(entity), ChangeLog.objects.count()
    body = {**create_body(entity, world, people), **extra}

    response = client_for(who).post(list_url(entity), body, format="json")

    assert response.status_code == 403
    assert response.json() == {name: FORBIDDEN_FIELD for name in extra}
    assert count(entity) == before
    assert ChangeLog.objects.count() == changes


@pytest.mark.parametrize("method", ["patch", "put"])
@pytest.mark.parametrize("entity", ENTITIES)
def test_empty_edit_changes_nothing(client_for, world, entity, method):
    record_id = world["rep_north"][entity]
    before, changes = row(entity, record_id), ChangeLog.objects.count()

    response = getattr(client_for("hq"), method)(detail_url(entity, record_id), {}, format="json")

    assert response.status_code == 200
    assert response.json()["version"] == 1
    assert row(entity, record_id) == before
    assert ChangeLog.objects.count() == changes


DELETE_ALLOWED = [
    *[("rep_north", entity) for entity in ("survey", "visit", "photo", "followup")],
    ("manager_north", "store"),
    ("manager_north", "task"),
    *[("hq", entity) for entity in ENTITIES],
]


@pytest.mark.parametrize(("who", "entity"), DELETE_ALLOWED)
def test_allowed_delete_leaves_a_tombstone_one_version_up(client_for, world, who, entity):
    record_id = world["rep_north"][entity]
    changes = ChangeLog.objects.count()
    client = client_for(who)

    response = client.delete(detail_url(entity, record_id))

    assert response.status_code == 204
    after = row(entity, record_id)
    assert after["deleted"] is True
    assert after["version"] == 2
    assert ChangeLog.objects.count() == changes + 1
    assert str(record_id) not in listed_ids(client, entity)


def test_forbidden_field_blocks_the_allowed_ones_sent_with_it(client_for, world):
    store = world["rep_north"]["store"]
    before = row("store", store)

    response = client_for("rep_north").patch(
        detail_url("store", store), {"phone": "040 3290 4100", "name": "Mine now"}, format="json"
    )

    assert response.status_code == 403
    assert response.json() == {"name": FORBIDDEN_FIELD}
    assert row("store", store) == before
    assert before["phone"] == ""


# --- roles: what a role may do -------------------------------------------------------------


def allowed_edits() -> list:
    cases = [
        ("rep_north", "store", {"phone": "040 3290 4100"}, {"phone": "+494032904100"}),
        ("rep_north", "store", {"opening_hours_proposed": {"sat": [["09:00", "13:00"]]}}, None),
        ("rep_north", "task", {"status": "in_progress"}, None),
        ("rep_north", "task", {"notes": "Owner away until Friday"}, None),
        ("rep_north", "task", {"status": "done", "notes": "Done"}, None),
        ("rep_north", "survey", {"footfall_weekday": 450, "equipment": ["oven"]}, None),
        ("rep_north", "visit", {"notes": "Met the owner", "outcome": "order"}, None),
        ("rep_north", "photo", {"section": "storefront"}, None),
        ("rep_north", "followup", {"done": True}, None),
        ("manager_north", "store", {"owner": "rep_north_2"}, None),
        ("manager_north", "store", {"grade": "A"}, None),
        ("manager_north", "store", {"name": "Kiosk Nord", "status": "active"}, None),
        ("manager_north", "store", {"tags": ["24h"]}, None),
        ("manager_north", "task", {"assignee": "rep_north_2", "due_date": "2026-12-15"}, None),
        ("manager_north", "task", {"status": "cancelled"}, None),
        ("manager_north", "survey", {"review_status": "has_issues"}, None),
        ("hq", "store", {"segment": "mid_growth", "name": "HQ name"}, None),
        ("hq", "store", {"region": "south", "owner": "rep_south"}, None),
        ("hq", "survey", {"review_status": "approved", "notes": "Seen by HQ"}, None),
        ("hq", "visit", {"purpose": "complaint"}, None),
        ("hq", "task", {"title": "Retitled", "priority": 1}, None),
        ("hq", "photo", {"content_type": "image/webp"}, None),
        ("hq", "followup", {"note": "hq note"}, None),
    ]
    return [
        pytest.param(who, entity, body, expected, id=f"{who}-{entity}-{'-'.join(body)}")
        for who, entity, body, expected in cases
    ]


@pytest.mark.parametrize("method", ["patch", "put"])
@pytest.mark.parametrize(("who", "entity", "body", "expected"), allowed_edits())
def test_allowed_edit_applies_and_raises_version_by_one(
    client_for, world, people, who, entity, body, expected, method
):
    record_id = world["rep_north"][entity]
    body = {name: resolve(value, world, people) for name, value in body.items()}
    expected = expected or body
    changes = ChangeLog.objects.count()

    response = getattr(client_for(who), method)(detail_url(entity, record_id), body, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["version"] == 2
    assert row(entity, record_id)["version"] == 2
    for name, value in expected.items():
        assert response.json()[name] == value
        assert stored(entity, record_id, name) == value
    assert ChangeLog.objects.count() == changes + 1


CREATE_ALLOWED = [
    ("rep_north", "store"),
    ("rep_north", "survey"),
    ("rep_north", "visit"),
    ("rep_north", "photo"),
    ("rep_north", "followup"),
    ("manager_north", "store"),
    ("manager_north", "task"),
    ("hq", "store"),
    ("hq", "survey"),
    ("hq", "visit"),
    ("hq", "task"),
    ("hq", "photo"),
    ("hq", "followup"),
]


@pytest.mark.parametrize(("who", "entity"), CREATE_ALLOWED)
def test_allowed_create_stores_version_1_in_the_callers_scope(
    client_for, world, people, who, entity
):
    record_id = uuid.uuid4()
    body = {"id": str(record_id), **create_body(entity, world, people)}
    before = count(entity)
    client = client_for(who)

    response = client.post(list_url(entity), body, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["id"] == str(record_id)
    assert response.json()["version"] == 1
    assert count(entity) == before + 1
    assert row(entity, record_id)["version"] == 1
    assert client.get(detail_url(entity, record_id)).status_code == 200


def test_rep_creates_a_store_they_own(client_for, world, people):
    client = client_for("rep_north")

    response = client.post(list_url("store"), create_body("store", world, people), format="json")

    assert response.status_code == 201, response.content
    assert response.json()["owner"] == people["rep_north"].pk
    assert row("store", response.json()["id"])["scope_owner_id"] == people["rep_north"].pk
    assert (
        client_for("rep_north_2").get(detail_url("store", response.json()["id"])).status_code == 404
    )


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"owner": "rep_north_2"}, {"owner": ["Outside your scope."]}),
        ({"region": "south"}, {"owner": ["Must work in the record's region."]}),
    ],
    ids=["owner-another-rep", "region-not-theirs"],
)
def test_rep_may_not_create_a_store_for_someone_else(client_for, world, people, body, errors):
    body = {**create_body("store", world, people)} | {
        name: resolve(value, world, people) for name, value in body.items()
    }
    before = count("store")

    response = client_for("rep_north").post(list_url("store"), body, format="json")

    assert response.status_code == 400
    assert response.json() == errors
    assert count("store") == before


# --- managers and the region's boundary ---------------------------------------------------


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"owner": "rep_south"}, {"owner": ["Must work in the record's region."]}),
        ({"region": "south"}, {"owner": ["Must work in the record's region."]}),
        ({"region": "south", "owner": "rep_south"}, {"owner": ["Outside your scope."]}),
        ({"owner": "hq"}, {"owner": ["Must be a rep."]}),
        ({"owner": "manager_north"}, {"owner": ["Must be a rep."]}),
        ({"owner": 987654}, {"owner": ["Not found."]}),
    ],
    ids=[
        "owner-rep-of-other-region",
        "region-away",
        "both-away",
        "owner-hq",
        "owner-a-manager",
        "owner-unknown",
    ],
)
def test_manager_may_not_move_a_store_out_of_their_region(client_for, world, people, body, errors):
    store = world["rep_north"]["store"]
    body = {name: resolve(value, world, people) for name, value in body.items()}
    before, changes = row("store", store), ChangeLog.objects.count()

    response = client_for("manager_north").patch(detail_url("store", store), body, format="json")

    assert response.status_code == 400
    assert response.json() == errors
    assert row("store", store) == before
    assert ChangeLog.objects.count() == changes


@pytest.fixture
def unowned_store(regions) -> uuid.UUID:
    return create("store", name="Vacant", lat=53.6, lon=10.0, region="north", owner=None)


def test_manager_may_not_move_an_unowned_store_out_of_their_region(client_for, unowned_store):
    before = row("store", unowned_store)

    response = client_for("manager_north").patch(
        detail_url("store", unowned_store), {"region": "south"}, format="json"
    )

    assert response.status_code == 400
    assert ["Outside your scope."] in response.json().values()
    assert row("store", unowned_store) == before


def test_region_out_of_scope_error_names_region(client_for, unowned_store):
    response = client_for("manager_north").patch(
        detail_url("store", unowned_store), {"region": "south"}, format="json"
    )

    assert response.json() == {"region": ["Outside your scope."]}


def test_manager_may_not_create_a_store_in_another_region(client_for, world, people):
    before = count("store")

    response = client_for("manager_north").post(
        list_url("store"), create_body("store", world, people, owner="rep_south"), format="json"
    )

    assert response.status_code == 400
    assert ["Outside your scope."] in response.json().values()
    assert count("store") == before


def test_store_owner_stays_a_rep_of_its_region_even_for_hq(client_for, world):
    store = world["rep_north"]["store"]
    before = row("store", store)

    response = client_for("hq").patch(
        detail_url("store", store), {"region": "south"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"owner": ["Must work in the record's region."]}
    assert row("store", store) == before


def test_task_assignee_stays_a_rep_of_the_stores_region(client_for, world):
    task = world["rep_north"]["task"]
    before = row("task", task)

    response = client_for("hq").patch(
        detail_url("task", task), {"store": str(world["rep_south"]["store"])}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"assignee": ["Must work in the record's region."]}
    assert row("task", task) == before


def test_manager_may_not_assign_a_task_to_a_rep_of_another_region(client_for, world, people):
    task = world["rep_north"]["task"]
    before = row("task", task)

    response = client_for("manager_north").patch(
        detail_url("task", task), {"assignee": people["rep_south"].pk}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"assignee": ["Must work in the record's region."]}
    assert row("task", task) == before


def test_reassigned_store_takes_its_records_to_the_new_owner(client_for, world, people):
    mine = world["rep_north"]
    response = client_for("manager_north").patch(
        detail_url("store", mine["store"]), {"owner": people["rep_north_2"].pk}, format="json"
    )
    assert response.status_code == 200
    old, new = client_for("rep_north"), client_for("rep_north_2")

    for entity in ("store", "survey", "visit", "photo", "followup"):
        assert old.get(detail_url(entity, mine[entity])).status_code == 404
        assert new.get(detail_url(entity, mine[entity])).status_code == 200
        assert str(mine[entity]) in listed_ids(new, entity)
        assert str(mine[entity]) not in listed_ids(old, entity)
    # The task stays with its assignee until a manager reassigns it.
    assert listed_ids(old, "task") == {str(mine["task"])}
    assert str(mine["task"]) not in listed_ids(new, "task")


def test_rep_progresses_their_task_on_a_store_reassigned_away(client_for, world, people):
    mine = world["rep_north"]
    response = client_for("manager_north").patch(
        detail_url("store", mine["store"]), {"owner": people["rep_north_2"].pk}, format="json"
    )
    assert response.status_code == 200

    response = client_for("rep_north").patch(
        detail_url("task", mine["task"]), {"status": "done"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert row("task", mine["task"])["status"] == "done"


def test_region_move_by_hq_moves_the_stores_records(client_for, world, people):
    mine = world["rep_north"]
    response = client_for("hq").patch(
        detail_url("store", mine["store"]),
        {"region": "south", "owner": people["rep_south"].pk},
        format="json",
    )
    assert response.status_code == 200
    north, south = client_for("manager_north"), client_for("manager_south")

    for entity in ENTITIES:
        assert str(mine[entity]) not in listed_ids(north, entity)
        assert str(mine[entity]) in listed_ids(south, entity)
        assert north.get(detail_url(entity, mine[entity])).status_code == 404


# --- references to another scope's records ------------------------------------------------


def reference_cases() -> list:
    cases = []
    for who, owner in OUT_OF_SCOPE:
        if role_of(who) in FIELD_ROLES:
            cases += [
                (who, owner, "survey", "store", "store"),
                (who, owner, "visit", "store", "store"),
                (who, owner, "followup", "store", "store"),
                (who, owner, "followup", "visit", "visit"),
                (who, owner, "photo", "survey", "survey"),
                (who, owner, "photo", "visit", "visit"),
            ]
        else:
            cases += [(who, owner, "task", "store", "store")]
    return [pytest.param(*case, id="-".join(case)) for case in cases]


@pytest.mark.parametrize(("who", "owner", "entity", "field", "target"), reference_cases())
def test_create_referencing_another_scope_is_400_not_found(
    client_for, world, people, who, owner, entity, field, target
):
    """The same answer as for an id that does not exist, and nothing is created."""
    own = who if who in REPS else next(rep for rep in owners_visible_to(who))
    body = create_body(entity, world, people, owner=own)
    if entity == "photo":
        body.pop("visit")
    before, changes = count(entity), ChangeLog.objects.count()
    client = client_for(who)

    response = client.post(
        list_url(entity), {**body, field: str(world[owner][target])}, format="json"
    )
    unknown = client.post(list_url(entity), {**body, field: str(uuid.uuid4())}, format="json")

    assert response.status_code == unknown.status_code == 400
    assert response.json() == unknown.json() == {field: ["Not found."]}
    assert count(entity) == before
    assert ChangeLog.objects.count() == changes


@pytest.mark.parametrize(
    ("who", "entity"),
    [
        ("rep_north", "survey"),
        ("rep_north", "visit"),
        ("rep_north", "followup"),
        ("manager_north", "task"),
        ("hq", "task"),
    ],
)
def test_update_moving_a_record_to_another_scopes_store_is_400(client_for, world, who, entity):
    record_id = world["rep_north"][entity]
    foreign = world["rep_south"]["store"] if who != "hq" else uuid.uuid4()
    before = row(entity, record_id)

    response = client_for(who).patch(
        detail_url(entity, record_id), {"store": str(foreign)}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"store": ["Not found."]}
    assert row(entity, record_id) == before


# --- authentication -----------------------------------------------------------------------

PUBLIC = {"/api/auth/token", "/api/schema/", "/api/docs/", "/api/health"}
METHODS = ("get", "post", "put", "patch", "delete")


def api_paths() -> list[str]:
    """Every route of the project outside the admin, with sample values in its slots."""
    resolver = get_resolver()
    samples = {"pk": "8d3e2f4b-34c5-4f4e-9f6a-1f1e2d3c4b5a", "format": "json"}
    paths = set()
    for name in resolver.reverse_dict:
        if not isinstance(name, str):
            continue
        for possibilities, *_ in resolver.reverse_dict.getlist(name):
            for pattern, params in possibilities:
                paths.add("/" + pattern % {param: samples[param] for param in params})
    return sorted(path for path in paths if path.startswith("/api/"))


API_PATHS = api_paths()
PRIVATE_PATHS = [path for path in API_PATHS if path not in PUBLIC]


def test_route_walk_finds_the_resources():
    for entity in ENTITIES:
        assert list_url(entity) in API_PATHS
        assert detail_url(entity, "8d3e2f4b-34c5-4f4e-9f6a-1f1e2d3c4b5a") in API_PATHS
    assert {"/api/me", "/api/auth/logout"} <= set(PRIVATE_PATHS)
    assert set(API_PATHS) >= PUBLIC


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("path", PRIVATE_PATHS)
def test_no_token_is_401(db, path, method):
    response = getattr(APIClient(), method)(path, {}, format="json")

    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"] == "Token"


@pytest.fixture
def bad_credentials(people, client_for) -> dict[str, str]:
    """Authorization headers that name no valid token."""
    revoked = client_for("rep_north")
    revoked_header = revoked._credentials["HTTP_AUTHORIZATION"]
    assert revoked.post("/api/auth/logout").status_code == 204
    expired_header = client_for("rep_south")._credentials["HTTP_AUTHORIZATION"]
    AuthToken.objects.filter(user=people["rep_south"]).update(
        expiry=timezone.now() - dt.timedelta(seconds=1)
    )
    inactive_header = client_for("rep_north_2")._credentials["HTTP_AUTHORIZATION"]
    people["rep_north_2"].is_active = False
    people["rep_north_2"].save(update_fields=["is_active"])
    return {
        "garbage": "Token 0123456789abcdef0123456789abcdef",
        "no-token": "Token",
        "two-words": "Token abc def",
        "not-ascii": "Token \xff\xfe",
        "revoked": revoked_header,
        "expired": expired_header,
        "inactive-user": inactive_header,
    }


BAD_CREDENTIALS = (
    "garbage",
    "no-token",
    "two-words",
    "not-ascii",
    "revoked",
    "expired",
    "inactive-user",
)


@pytest.mark.parametrize("kind", BAD_CREDENTIALS)
def test_invalid_token_is_401_everywhere(bad_credentials, kind):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bad_credentials[kind])

    for path in PRIVATE_PATHS:
        for method in METHODS:
            response = getattr(client, method)(path, {}, format="json")
            assert response.status_code == 401, (path, method, response.content)
            assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize(
    ("path", "status"), [("/api/schema/", 200), ("/api/docs/", 200), ("/api/health", 200)]
)
def test_public_endpoints_answer_without_a_token(db, path, status):
    assert APIClient().get(path).status_code == status


def test_logout_revokes_only_that_token(client_for):
    phone, tablet = client_for("rep_north"), client_for("rep_north")

    assert phone.post("/api/auth/logout").status_code == 204

    assert phone.get("/api/me").status_code == 401
    assert phone.get(list_url("store")).status_code == 401
    assert tablet.get("/api/me").status_code == 200
