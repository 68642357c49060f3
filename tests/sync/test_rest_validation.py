"""Bad input on every write endpoint of the REST resources: a 400 (or 413/415) with field
messages, never a 500, and nothing stored."""

import json
import uuid
from typing import Any

import pytest
from django.conf import settings

from fieldline.inputs import FLOAT_MESSAGE, INT_MESSAGE, NUL_MESSAGE
from fieldline.middleware import BodySizeLimitMiddleware
from sync.models import ChangeLog
from sync.registry import get_entity
from sync.rest import UNUSABLE_ID

ENTITIES = ("store", "survey", "visit", "task", "photo", "followup")
# Who writes each entity in these tests: a role that may set every field it sends, so that
# an answer is about the value, not the role.
WRITER = {
    "store": "manager_north",
    "survey": "rep_north",
    "visit": "rep_north",
    "task": "manager_north",
    "photo": "rep_north",
    "followup": "rep_north",
}
DATETIME_FORMAT = (
    "Datetime has wrong format. Use one of these formats instead: "
    "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
)
DATE_FORMAT = "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."
NOT_A_STRING = ["Not a valid string."]
NOT_AN_INTEGER = ["A valid integer is required."]
NOT_A_NUMBER = ["A finite number is required."]
NOT_A_UUID = ["Must be a valid UUID."]


def list_url(entity: str) -> str:
    return f"/api/{entity}s/"


def detail_url(entity: str, record_id: Any) -> str:
    return f"/api/{entity}s/{record_id}/"


def model(entity: str):
    spec = get_entity(entity)
    assert spec is not None
    return spec.model


def row(entity: str, record_id: Any) -> dict[str, Any]:
    return model(entity).objects.filter(pk=record_id).values().get()


def create_body(entity: str, world: dict, people: dict) -> dict[str, Any]:
    """A valid new record of `entity` for its writer, next to rep_north's records."""
    mine = world["rep_north"]
    return {
        "store": {"name": "New kiosk", "lat": 53.56, "lon": 9.98, "region": "north"},
        "survey": {"store": str(mine["store"]), "footfall_weekday": 120},
        "visit": {"store": str(mine["store"]), "check_in_at": "2026-11-03T10:00:00Z"},
        "task": {
            "store": str(mine["store"]),
            "assignee": people["rep_north"].pk,
            "type": "survey",
            "title": "Survey it",
        },
        "photo": {"survey": str(mine["survey"]), "sha256": "c" * 64, "content_type": "image/png"},
        "followup": {"store": str(mine["store"]), "due_date": "2026-12-24"},
    }[entity]


class Unchanged:
    """The state of the database that a refused write must leave as it was."""

    def __init__(self, world: dict) -> None:
        self.world = world
        self.state = self.capture()

    def capture(self) -> dict[str, Any]:
        rows = {
            (entity, who): row(entity, ids[entity])
            for who, ids in self.world.items()
            for entity in ENTITIES
        }
        counts = {entity: model(entity).objects.count() for entity in ENTITIES}
        return {"rows": rows, "counts": counts, "changes": ChangeLog.objects.count()}

    def check(self) -> None:
        assert self.capture() == self.state


@pytest.fixture
def unchanged(world):
    return Unchanged(world)


def test_create_bodies_are_valid(client_for, world, people):
    """The control for every case below: the same bodies without the bad value succeed."""
    for entity in ENTITIES:
        response = client_for(WRITER[entity]).post(
            list_url(entity), create_body(entity, world, people), format="json"
        )
        assert response.status_code == 201, (entity, response.content)
        assert response.json()["version"] == 1


# --- bad field values ---------------------------------------------------------------------
# (entity, field, value, the field's messages); optionally the caller.

BAD_VALUES: list[tuple] = [
    # Stores: coordinates, types, enums, nested values, references.
    ("store", "lat", 200, ["Ensure this value is less than or equal to 90.0."]),
    ("store", "lat", -90.5, ["Ensure this value is greater than or equal to -90.0."]),
    ("store", "lon", -181, ["Ensure this value is greater than or equal to -180.0."]),
    ("store", "lon", 180.01, ["Ensure this value is less than or equal to 180.0."]),
    # Numbers beyond 64 bits, and NUL, are refused by the one input check before any field.
    ("store", "lat", 1e308, [FLOAT_MESSAGE]),
    ("store", "lat", 10**400, [INT_MESSAGE]),
    ("store", "lat", -(10**400), [INT_MESSAGE]),
    ("store", "lat", "53.5", NOT_A_NUMBER),
    ("store", "lat", True, NOT_A_NUMBER),
    ("store", "lat", None, ["This field may not be null."]),
    ("store", "lon", [9.9], NOT_A_NUMBER),
    ("store", "name", 5, NOT_A_STRING),
    ("store", "name", ["Kiosk"], NOT_A_STRING),
    ("store", "name", {"de": "Kiosk"}, NOT_A_STRING),
    ("store", "name", "", ["This field may not be blank."]),
    ("store", "name", "K" * 201, ["Ensure this field has no more than 200 characters."]),
    ("store", "name", "Kiosk\x00", [NUL_MESSAGE]),
    ("store", "address", "A" * 301, ["Ensure this field has no more than 300 characters."]),
    ("store", "status", "open", ['"open" is not a valid choice.']),
    ("store", "status", 1, ['"1" is not a valid choice.']),
    ("store", "trade_area_type", "beach", ['"beach" is not a valid choice.']),
    ("store", "trade_area_type", "OFFICE", ['"OFFICE" is not a valid choice.']),
    ("store", "grade", "Z", ['"Z" is not a valid choice.']),
    ("store", "segment", "vip", ['"vip" is not a valid choice.'], "hq"),
    ("store", "tags", "vip", ['Expected a list of items but got type "str".']),
    ("store", "tags", {"vip": True}, ['Expected a list of items but got type "dict".']),
    ("store", "tags", [1], {"0": NOT_A_STRING}),
    ("store", "tags", ["t"] * 51, ["Ensure this field has no more than 50 elements."]),
    (
        "store",
        "opening_hours",
        [["08:00", "18:00"]],
        ['Expected a dictionary of items but got type "list".'],
    ),
    (
        "store",
        "opening_hours",
        {"monday": [["08:00", "18:00"]]},
        {"monday": ["Unknown weekday; use one of mon, tue, wed, thu, fri, sat, sun."]},
    ),
    (
        "store",
        "opening_hours",
        {"mon": [["18:00", "08:00"]]},
        {"mon": ['Each interval is ["HH:MM", "HH:MM"], opening first.']},
    ),
    (
        "store",
        "opening_hours",
        {"mon": [["8", "18:00"]]},
        {"mon": ['Each interval is ["HH:MM", "HH:MM"], opening first.']},
    ),
    (
        "store",
        "opening_hours",
        {"mon": "08:00-18:00"},
        {"mon": ["A list of at most 4 [open, close] pairs is required."]},
    ),
    ("store", "owner", "1", NOT_AN_INTEGER),
    ("store", "owner", 1.5, NOT_AN_INTEGER),
    ("store", "owner", True, NOT_AN_INTEGER),
    ("store", "owner", 0, ["Ensure this value is greater than or equal to 1."]),
    ("store", "owner", 10**30, [INT_MESSAGE]),
    ("store", "owner", 2**63 - 1, ["Not found."]),
    ("store", "region", 5, NOT_A_STRING),
    ("store", "region", "atlantis", ["Not found."]),
    ("store", "geofence_radius_m", 5, ["Ensure this value is greater than or equal to 10.0."]),
    ("store", "geofence_radius_m", 1e6, ["Ensure this value is less than or equal to 5000.0."]),
    ("store", "phone", 404032904100, NOT_A_STRING),
    ("store", "phone", "12345", ["Not a valid phone number."]),
    ("store", "phone", "call me", ["Not a phone number."]),
    # Surveys.
    ("survey", "footfall_weekday", -1, ["Ensure this value is greater than or equal to 0."]),
    ("survey", "footfall_weekend", -5, ["Ensure this value is greater than or equal to 0."]),
    (
        "survey",
        "footfall_weekday",
        1_000_001,
        ["Ensure this value is less than or equal to 1000000."],
    ),
    (
        "survey",
        "footfall_weekday",
        10**400,
        [INT_MESSAGE],
    ),
    ("survey", "footfall_weekday", "300", NOT_AN_INTEGER),
    ("survey", "footfall_weekday", 300.5, NOT_AN_INTEGER),
    ("survey", "footfall_weekday", False, NOT_AN_INTEGER),
    ("survey", "footfall_weekday", [300], NOT_AN_INTEGER),
    ("survey", "equipment", ["jetpack"], {"0": ['"jetpack" is not a valid choice.']}),
    (
        "survey",
        "equipment",
        ["microwave", "teleporter"],
        {"1": ['"teleporter" is not a valid choice.']},
    ),
    ("survey", "equipment", "microwave", ['Expected a list of items but got type "str".']),
    ("survey", "equipment", [1], {"0": ['"1" is not a valid choice.']}),
    ("survey", "customer_groups", ["aliens"], {"0": ['"aliens" is not a valid choice.']}),
    ("survey", "customer_groups", {}, ['Expected a list of items but got type "dict".']),
    (
        "survey",
        "competitors",
        [{"name": "Bakery Hansen", "kind": "bakery", "distance_m": 40, "rating": 5}],
        {"0": {"rating": ["Unknown field."]}},
    ),
    (
        "survey",
        "competitors",
        [{"name": "Bakery Hansen", "kind": "bank", "distance_m": 40}],
        {"0": {"kind": ['"bank" is not a valid choice.']}},
    ),
    (
        "survey",
        "competitors",
        [{"name": "Bakery Hansen", "kind": "bakery", "distance_m": -1}],
        {"0": {"distance_m": ["Ensure this value is greater than or equal to 0."]}},
    ),
    (
        "survey",
        "competitors",
        [["Bakery Hansen", "bakery", 40]],
        {"0": {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}},
    ),
    (
        "survey",
        "footfall_slots",
        {"night": 5},
        {"night": ["Unknown slot; use morning, lunch, evening."]},
    ),
    (
        "survey",
        "footfall_slots",
        {"morning": -1},
        {"morning": ["Ensure this value is greater than or equal to 0."]},
    ),
    ("survey", "footfall_slots", [5, 6], ['Expected a dictionary of items but got type "list".']),
    ("survey", "trade_area_type", "beach", ['"beach" is not a valid choice.']),
    ("survey", "signal_quality", "5g", ['"5g" is not a valid choice.']),
    ("survey", "review_status", "maybe", ['"maybe" is not a valid choice.'], "hq"),
    ("survey", "area_m2", -1, ["Ensure this value is greater than or equal to 0.0."]),
    ("survey", "area_m2", 10**400, [INT_MESSAGE]),
    ("survey", "lat", 200, ["Ensure this value is less than or equal to 90.0."]),
    ("survey", "lon", -181, ["Ensure this value is greater than or equal to -180.0."]),
    ("survey", "accuracy_m", "5", NOT_A_NUMBER),
    ("survey", "captured_at", "yesterday", [DATETIME_FORMAT]),
    ("survey", "captured_at", 1764500000, [DATETIME_FORMAT]),
    ("survey", "captured_at", "0001-01-01T00:00:00+01:00", ["Datetime value out of range."]),
    ("survey", "notes", 5, NOT_A_STRING),
    ("survey", "notes", "n" * 5001, ["Ensure this field has no more than 5000 characters."]),
    ("survey", "store", "not-a-uuid", NOT_A_UUID),
    ("survey", "store", 5, NOT_A_UUID),
    ("survey", "store", None, ["This field may not be null."]),
    # Visits.
    ("visit", "purpose", "party", ['"party" is not a valid choice.']),
    ("visit", "purpose", None, ["This field may not be null."]),
    ("visit", "check_in_at", "not a date", [DATETIME_FORMAT]),
    ("visit", "check_in_at", "9999-12-31T23:59:59-01:00", ["Datetime value out of range."]),
    ("visit", "check_in_lat", 91, ["Ensure this value is less than or equal to 90.0."]),
    ("visit", "check_in_lon", -181, ["Ensure this value is greater than or equal to -180.0."]),
    ("visit", "check_in_accuracy_m", -1, ["Ensure this value is greater than or equal to 0.0."]),
    ("visit", "notes", ["note"], NOT_A_STRING),
    ("visit", "outcome", "o" * 201, ["Ensure this field has no more than 200 characters."]),
    ("visit", "store", 12, NOT_A_UUID),
    # Tasks.
    ("task", "type", "chore", ['"chore" is not a valid choice.']),
    ("task", "status", "finished", ['"finished" is not a valid choice.']),
    ("task", "status", True, ['"True" is not a valid choice.']),
    ("task", "priority", 0, ["Ensure this value is greater than or equal to 1."]),
    ("task", "priority", 4, ["Ensure this value is less than or equal to 3."]),
    ("task", "priority", 10**30, [INT_MESSAGE]),
    ("task", "priority", "1", NOT_AN_INTEGER),
    ("task", "due_date", "2026-02-30", [DATE_FORMAT]),
    ("task", "due_date", 20261201, [DATE_FORMAT]),
    ("task", "title", 5, NOT_A_STRING),
    ("task", "title", "", ["This field may not be blank."]),
    ("task", "assignee", "rep-north-1", NOT_AN_INTEGER),
    ("task", "assignee", 987654, ["Not found."]),
    ("task", "store", "00000000-0000-0000-0000-00000000000g", NOT_A_UUID),
    # Photos.
    ("photo", "sha256", "abc", ["64 lowercase hexadecimal digits are required."]),
    ("photo", "sha256", "A" * 64, ["64 lowercase hexadecimal digits are required."]),
    ("photo", "sha256", "g" * 64, ["64 lowercase hexadecimal digits are required."]),
    ("photo", "sha256", "a" * 63 + "\n", ["64 lowercase hexadecimal digits are required."]),
    ("photo", "sha256", "a" * 65, ["Ensure this field has no more than 64 characters."]),
    ("photo", "sha256", 1234, NOT_A_STRING),
    ("photo", "content_type", "image/gif", ['"image/gif" is not a valid choice.']),
    ("photo", "section", "selfie", ['"selfie" is not a valid choice.']),
    ("photo", "taken_at", "noon", [DATETIME_FORMAT]),
    ("photo", "lat", 200, ["Ensure this value is less than or equal to 90.0."]),
    ("photo", "survey", "nope", NOT_A_UUID),
    # Follow-ups.
    ("followup", "done", "true", ["Must be a valid boolean."]),
    ("followup", "done", 1, ["Must be a valid boolean."]),
    ("followup", "done", None, ["This field may not be null."]),
    ("followup", "due_date", "tomorrow", [DATE_FORMAT]),
    ("followup", "due_date", None, ["This field may not be null."]),
    ("followup", "note", 5, NOT_A_STRING),
    ("followup", "note", "n" * 2001, ["Ensure this field has no more than 2000 characters."]),
    ("followup", "visit", "nope", NOT_A_UUID),
    ("followup", "visit", str(uuid.UUID(int=7)), ["Not found."]),
]


def bad_value_params() -> list:
    params = []
    for case in BAD_VALUES:
        entity, field, value, errors, *caller = case
        label = repr(value)[:24]
        params.append(
            pytest.param(
                entity,
                field,
                value,
                errors,
                caller[0] if caller else WRITER[entity],
                id=f"{entity}-{field}-{label}",
            )
        )
    return params


@pytest.mark.parametrize(("entity", "field", "value", "errors", "who"), bad_value_params())
def test_create_with_a_bad_value_is_400(
    client_for, world, people, unchanged, entity, field, value, errors, who
):
    body = {**create_body(entity, world, people), field: value}

    response = client_for(who).post(list_url(entity), body, format="json")

    assert response.status_code == 400
    assert response.json() == {field: errors}
    unchanged.check()


@pytest.mark.parametrize("method", ["patch", "put"])
@pytest.mark.parametrize(("entity", "field", "value", "errors", "who"), bad_value_params())
def test_update_with_a_bad_value_is_400(
    client_for, world, unchanged, entity, field, value, errors, who, method
):
    record_id = world["rep_north"][entity]

    response = getattr(client_for(who), method)(
        detail_url(entity, record_id), {field: value}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {field: errors}
    unchanged.check()


def test_one_bad_value_refuses_the_good_ones_sent_with_it(client_for, world, unchanged):
    store = world["rep_north"]["store"]

    response = client_for("rep_north").patch(
        detail_url("store", store),
        {"phone": "040 3290 4100", "opening_hours": {"mon": [["18:00", "08:00"]]}},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "opening_hours": {"mon": ['Each interval is ["HH:MM", "HH:MM"], opening first.']}
    }
    unchanged.check()


# --- numbers JSON can hold but no field can -----------------------------------------------


@pytest.mark.parametrize(
    ("entity", "raw_field", "errors"),
    [
        ("store", '"lat": 1e400', {"lat": [FLOAT_MESSAGE]}),
        ("store", '"lon": -1e400', {"lon": [FLOAT_MESSAGE]}),
        ("survey", '"footfall_weekday": 1e400', {"footfall_weekday": [FLOAT_MESSAGE]}),
        ("survey", '"area_m2": 1e999', {"area_m2": [FLOAT_MESSAGE]}),
        ("task", '"priority": 1e400', {"priority": [FLOAT_MESSAGE]}),
    ],
)
def test_number_beyond_float_range_is_400(client_for, world, unchanged, entity, raw_field, errors):
    response = client_for(WRITER[entity]).generic(
        "PATCH",
        detail_url(entity, world["rep_north"][entity]),
        "{" + raw_field + "}",
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json() == errors
    unchanged.check()


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_literals_are_not_json(client_for, world, unchanged, literal):
    response = client_for("rep_north").generic(
        "PATCH",
        detail_url("survey", world["rep_north"]["survey"]),
        '{"area_m2": ' + literal + "}",
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": "JSON parse error - Out of range float values are not JSON compliant: "
        f"'{literal}'"
    }
    unchanged.check()


def test_integer_too_long_to_parse_is_400(client_for, world, unchanged):
    response = client_for("rep_north").generic(
        "PATCH",
        detail_url("survey", world["rep_north"]["survey"]),
        '{"footfall_weekday": 1' + "0" * 5000 + "}",
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error - Exceeds the limit")
    unchanged.check()


# --- unknown and server-owned fields ------------------------------------------------------


def server_owned(entity: str) -> list[str]:
    spec = get_entity(entity)
    assert spec is not None
    return ["updated_at", "deleted", "created_at", "field_stamps", *spec.readonly]


UNKNOWN_FIELDS = [
    pytest.param(entity, name, id=f"{entity}-{name}")
    for entity in ENTITIES
    for name in ["colour", "Name", *server_owned(entity)]
]


@pytest.mark.parametrize(("entity", "name"), UNKNOWN_FIELDS)
def test_unknown_field_on_create_is_400_naming_it(
    client_for, world, people, unchanged, entity, name
):
    body = {**create_body(entity, world, people), name: "x"}

    response = client_for(WRITER[entity]).post(list_url(entity), body, format="json")

    assert response.status_code == 400
    assert response.json() == {name: ["Unknown field."]}
    unchanged.check()


@pytest.mark.parametrize("method", ["patch", "put"])
@pytest.mark.parametrize(("entity", "name"), UNKNOWN_FIELDS)
def test_unknown_field_on_update_is_400_naming_it(
    client_for, world, unchanged, entity, name, method
):
    response = getattr(client_for(WRITER[entity]), method)(
        detail_url(entity, world["rep_north"][entity]), {name: True}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {name: ["Unknown field."]}
    unchanged.check()


# --- bodies that are not a JSON object ----------------------------------------------------

DEEP = "[" * 100_000 + "]" * 100_000
NOT_AN_OBJECT = {"detail": "A JSON object is required."}
BAD_BODIES = [
    pytest.param("application/json", "[]", 400, NOT_AN_OBJECT, id="empty-array"),
    pytest.param("application/json", '[{"name": "x"}]', 400, NOT_AN_OBJECT, id="array"),
    pytest.param("application/json", "null", 400, NOT_AN_OBJECT, id="null"),
    pytest.param("application/json", '"text"', 400, NOT_AN_OBJECT, id="string"),
    pytest.param("application/json", "42", 400, NOT_AN_OBJECT, id="number"),
    pytest.param("application/json", "true", 400, NOT_AN_OBJECT, id="boolean"),
    pytest.param(
        "application/json",
        '{"name": ',
        400,
        {"detail": "JSON parse error - Expecting value: line 1 column 10 (char 9)"},
        id="truncated",
    ),
    pytest.param(
        "application/json",
        "{'name': 'x'}",
        400,
        {
            "detail": "JSON parse error - Expecting property name enclosed in double quotes: "
            "line 1 column 2 (char 1)"
        },
        id="single-quotes",
    ),
    pytest.param(
        "application/json",
        b'{"name": "\xff"}',
        400,
        {
            "detail": "JSON parse error - 'utf-8' codec can't decode byte 0xff in position 10: "
            "invalid start byte"
        },
        id="not-utf8",
    ),
    pytest.param(
        "application/json",
        DEEP,
        400,
        {"detail": "JSON parse error - nested too deeply."},
        id="nested-too-deeply",
    ),
    pytest.param(
        "application/x-www-form-urlencoded",
        "name=Kiosk&lat=53.5",
        415,
        {
            "detail": 'Unsupported media type "application/x-www-form-urlencoded" in request. '
            "Send a JSON body with 'Content-Type: application/json'."
        },
        id="form",
    ),
    pytest.param(
        "text/plain",
        '{"name": "Kiosk"}',
        415,
        {
            "detail": 'Unsupported media type "text/plain" in request. '
            "Send a JSON body with 'Content-Type: application/json'."
        },
        id="text",
    ),
]


def write_targets() -> list:
    return [
        pytest.param(entity, method, id=f"{entity}-{method}")
        for entity in ENTITIES
        for method in ("POST", "PATCH", "PUT")
    ]


def target_url(entity: str, method: str, world: dict) -> str:
    return list_url(entity) if method == "POST" else detail_url(entity, world["rep_north"][entity])


@pytest.mark.parametrize(("content_type", "body", "status", "expected"), BAD_BODIES)
@pytest.mark.parametrize(("entity", "method"), write_targets())
def test_body_that_is_not_a_json_object_is_refused(
    client_for, world, unchanged, entity, method, content_type, body, status, expected
):
    response = client_for(WRITER[entity]).generic(
        method, target_url(entity, method, world), body, content_type=content_type
    )

    assert response.status_code == status
    assert response.json() == expected
    unchanged.check()


@pytest.mark.parametrize(("entity", "method"), write_targets())
def test_body_over_the_limit_is_413(client_for, world, people, unchanged, entity, method):
    body = create_body(entity, world, people) if method == "POST" else {}
    # The path's one limit (a few paths have their own, larger, in BODY_LIMITS).
    limit = BodySizeLimitMiddleware.limit_for(target_url(entity, method, world))
    body["notes"] = "x" * limit
    raw = json.dumps(body)
    assert len(raw) > limit

    response = client_for(WRITER[entity]).generic(
        method, target_url(entity, method, world), raw, content_type="application/json"
    )

    assert response.status_code == 413
    assert response.json()["detail"].startswith("Request body is too large")
    unchanged.check()


def test_body_just_under_the_limit_is_read(client_for, world, unchanged):
    """The limit is the setting, not something smaller: a large valid body gets a field
    answer, not a 413."""
    filler = settings.DATA_UPLOAD_MAX_MEMORY_SIZE - 100
    raw = json.dumps({"notes": "x" * filler})
    assert len(raw) <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    response = client_for("rep_north").generic(
        "PATCH",
        detail_url("visit", world["rep_north"]["visit"]),
        raw,
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json() == {"notes": ["Ensure this field has no more than 5000 characters."]}
    unchanged.check()


# --- ids and versions ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw_id", ["not-a-uuid", 5, True, ["8d3e2f4b-34c5-4f4e-9f6a-1f1e2d3c4b5a"], ""]
)
@pytest.mark.parametrize("entity", ENTITIES)
def test_create_with_an_invalid_id_is_400(client_for, world, people, unchanged, entity, raw_id):
    body = {"id": raw_id, **create_body(entity, world, people)}

    response = client_for(WRITER[entity]).post(list_url(entity), body, format="json")

    assert response.status_code == 400
    assert response.json() == {"id": [UNUSABLE_ID]}
    unchanged.check()


@pytest.mark.parametrize("owner", ["rep_north", "rep_south"])
@pytest.mark.parametrize("entity", ENTITIES)
def test_create_with_an_existing_id_answers_as_any_invalid_id(
    client_for, world, people, unchanged, entity, owner
):
    """Taken in the caller's scope (rep_north's) or in another (rep_south's, which the
    north writers cannot see): the same 400 as a malformed id, so an id is not probed."""
    body = {"id": str(world[owner][entity]), **create_body(entity, world, people)}

    response = client_for(WRITER[entity]).post(list_url(entity), body, format="json")
    malformed = client_for(WRITER[entity]).post(
        list_url(entity), {**body, "id": "not-a-uuid"}, format="json"
    )

    assert response.status_code == malformed.status_code == 400
    assert response.json() == malformed.json() == {"id": [UNUSABLE_ID]}
    unchanged.check()


@pytest.mark.parametrize("method", ["get", "patch", "put", "delete"])
@pytest.mark.parametrize("entity", ENTITIES)
@pytest.mark.parametrize("raw_id", ["not-a-uuid", "123", "8d3e2f4b-34c5-4f4e-9f6a-1f1e2d3c4b5"])
def test_invalid_uuid_in_the_path_is_404(client_for, world, unchanged, entity, method, raw_id):
    response = getattr(client_for("hq"), method)(
        detail_url(entity, raw_id), {"notes": "x"}, format="json"
    )

    assert response.status_code == 404
    unchanged.check()


@pytest.mark.parametrize("version", ["1", True, 1.5, None, [1]])
def test_update_with_a_version_that_is_not_an_integer_is_400(client_for, world, unchanged, version):
    response = client_for("rep_north").patch(
        detail_url("visit", world["rep_north"]["visit"]),
        {"version": version, "notes": "x"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"version": ["An integer is required."]}
    unchanged.check()


# --- checks across fields -----------------------------------------------------------------


@pytest.mark.parametrize(
    "check_out_at",
    ["2026-11-03T09:59:59Z", "2026-11-03T11:30:00+02:00", "2026-11-02T23:00:00Z"],
    ids=["a-second-early", "early-in-utc", "day-before"],
)
def test_visit_checked_out_before_checked_in_is_400(
    client_for, world, people, unchanged, check_out_at
):
    body = {**create_body("visit", world, people), "check_out_at": check_out_at}

    response = client_for("rep_north").post(list_url("visit"), body, format="json")

    assert response.status_code == 400
    assert response.json() == {"check_out_at": ["Must not be before check_in_at."]}
    unchanged.check()


def test_visit_update_making_check_out_precede_check_in_is_400(client_for, world, unchanged):
    """The world's visit checked in at 2026-11-02T09:00Z."""
    visit = world["rep_north"]["visit"]
    client = client_for("rep_north")

    early_out = client.patch(
        detail_url("visit", visit), {"check_out_at": "2026-11-02T08:59:00Z"}, format="json"
    )
    late_in = client.patch(
        detail_url("visit", visit),
        {"check_in_at": "2026-11-02T12:00:00Z", "check_out_at": "2026-11-02T11:00:00Z"},
        format="json",
    )

    assert early_out.status_code == late_in.status_code == 400
    assert (
        early_out.json() == late_in.json() == {"check_out_at": ["Must not be before check_in_at."]}
    )
    unchanged.check()


def test_visit_check_out_at_check_in_is_accepted(client_for, world):
    visit = world["rep_north"]["visit"]

    response = client_for("rep_north").patch(
        detail_url("visit", visit), {"check_out_at": "2026-11-02T10:00:00+01:00"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["check_out_at"] == "2026-11-02T09:00:00.000Z"
    assert row("visit", visit)["version"] == 2


def test_photo_of_neither_survey_nor_visit_is_400(client_for, world, people, unchanged):
    body = create_body("photo", world, people)
    body.pop("survey")

    bare = client_for("rep_north").post(list_url("photo"), body, format="json")
    nulls = client_for("rep_north").post(
        list_url("photo"), {**body, "survey": None, "visit": None}, format="json"
    )

    assert bare.status_code == nulls.status_code == 400
    assert bare.json() == nulls.json() == {"survey": ["A photo belongs to a survey or a visit."]}
    unchanged.check()


def test_photo_update_leaving_neither_survey_nor_visit_is_400(client_for, world, unchanged):
    response = client_for("rep_north").patch(
        detail_url("photo", world["rep_north"]["photo"]), {"survey": None}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"survey": ["A photo belongs to a survey or a visit."]}
    unchanged.check()


@pytest.mark.parametrize("field", ["store", "check_in_at"])
def test_create_without_a_required_field_is_400(client_for, world, people, unchanged, field):
    body = create_body("visit", world, people)
    body.pop(field)

    response = client_for("rep_north").post(list_url("visit"), body, format="json")

    assert response.status_code == 400
    assert response.json() == {field: ["This field is required."]}
    unchanged.check()


# --- phone numbers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "040 3290 4100",
        "040-3290-4100",
        "+49 40 32904100",
        "0049 40 3290 4100",
        "+49 (0)40 3290 4100",
        "0049 (0) 40 / 3290 - 4100",
    ],
)
def test_store_phone_is_stored_in_e164(client_for, world, typed):
    store = world["rep_north"]["store"]

    response = client_for("rep_north").patch(
        detail_url("store", store), {"phone": typed}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["phone"] == "+494032904100"
    assert row("store", store)["phone"] == "+494032904100"
    assert row("store", store)["version"] == 2


def test_new_store_phone_is_stored_in_e164(client_for, world, people):
    body = {**create_body("store", world, people), "phone": "040 3290 4100"}

    response = client_for("rep_north").post(list_url("store"), body, format="json")

    assert response.status_code == 201
    assert response.json()["phone"] == "+494032904100"
    assert row("store", response.json()["id"])["phone"] == "+494032904100"


@pytest.mark.parametrize(
    ("typed", "errors"),
    [
        ("12345", ["Not a valid phone number."]),
        ("call me", ["Not a phone number."]),
        ("+" + "9" * 40, ["Not a phone number."]),
        ("0" * 51, ["Ensure this field has no more than 50 characters."]),
    ],
)
def test_invalid_store_phone_is_400(client_for, world, unchanged, typed, errors):
    response = client_for("rep_north").patch(
        detail_url("store", world["rep_north"]["store"]), {"phone": typed}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"phone": errors}
    unchanged.check()


def test_store_phone_may_be_cleared(client_for, world):
    store = world["rep_north"]["store"]
    client = client_for("rep_north")
    first = client.patch(detail_url("store", store), {"phone": "040 3290 4100"}, format="json")
    assert first.status_code == 200

    response = client.patch(detail_url("store", store), {"phone": ""}, format="json")

    assert response.status_code == 200
    assert row("store", store)["phone"] == ""
    assert row("store", store)["version"] == 3


# --- list parameters ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entity", "query", "errors"),
    [
        (
            "store",
            "updated_since=0001-01-01T00:00:00%2B01:00",
            {"updated_since": ["Date and time out of range."]},
        ),
        (
            "store",
            "updated_since=9999-12-31T23:59:59-01:00",
            {"updated_since": ["Date and time out of range."]},
        ),
        (
            "survey",
            "captured_after=9999-12-31T23:59:59-01:00",
            {"captured_after": ["Date and time out of range."]},
        ),
        (
            "visit",
            "check_in_before=0001-01-01T00:00:00%2B05:00",
            {"check_in_before": ["Date and time out of range."]},
        ),
        ("store", "updated_since=last-week", {"updated_since": ["Enter a valid date/time."]}),
        ("task", "due_before=2026-02-30", {"due_before": ["Enter a valid date."]}),
        ("survey", "store=not-a-uuid", {"store": ["Enter a valid UUID."]}),
        ("store", "owner=abc", {"owner": ["Enter a whole number."]}),
        ("task", "assignee=1.5", {"assignee": ["Enter a whole number."]}),
        ("task", "assignee=0", {"assignee": ["Ensure this value is greater than or equal to 1."]}),
        (
            "store",
            "owner=99999999999999999999999999",
            {"owner": ["Ensure this value is less than or equal to 9223372036854775807."]},
        ),
        ("store", "tag=%00", {"tag": [NUL_MESSAGE]}),
        (
            "store",
            "status=open",
            {"status": ["Select a valid choice. open is not one of the available choices."]},
        ),
    ],
)
def test_bad_list_parameter_is_400(client_for, world, entity, query, errors):
    response = client_for("hq").get(f"{list_url(entity)}?{query}")

    assert response.status_code == 400
    assert response.json() == errors


@pytest.mark.parametrize(
    "query",
    ["owner=9223372036854775807", "page_size=100000", "page_size=-1", "q=" + "x" * 5000],
)
def test_odd_but_harmless_list_parameters_answer_200(client_for, world, query):
    response = client_for("hq").get(f"{list_url('store')}?{query}")

    assert response.status_code == 200
