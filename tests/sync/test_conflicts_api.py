"""The conflict log over HTTP: scoped, filterable, and a losing value can be re-applied."""

import datetime as dt
import uuid

import pytest

from tests.conftest import push_one

pytestmark = pytest.mark.django_db


def lose_a_notes_conflict(people, world, who: str) -> str:
    """Two devices of `who` edit a survey's notes from the same base; the later clock wins."""
    survey = world[who]["survey"]
    early = dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC)
    late = early + dt.timedelta(minutes=5)
    push_one(
        people[who],
        "survey",
        "update",
        survey,
        base_version=1,
        fields={"notes": "kept"},
        client_ts=late,
        mutation_id=uuid.uuid4(),
        device_id="device-late",
    )
    result = push_one(
        people[who],
        "survey",
        "update",
        survey,
        base_version=1,
        fields={"notes": "lost"},
        client_ts=early,
        mutation_id=uuid.uuid4(),
        device_id="device-early",
    )
    assert result.status == "conflict"
    return str(survey)


def test_manager_sees_conflicts_of_their_region_only(client_for, people, world):
    north = lose_a_notes_conflict(people, world, "rep_north")
    south = lose_a_notes_conflict(people, world, "rep_south")
    body = client_for("manager_north").get("/api/sync/conflicts").json()
    assert [row["record_id"] for row in body["results"]] == [north]
    [row] = body["results"]
    assert (row["field"], row["client_value"], row["server_value"], row["kept"]) == (
        "notes",
        "lost",
        "kept",
        "server",
    )
    assert row["device_id"] == "device-early"
    assert client_for("hq").get("/api/sync/conflicts").json()["count"] == 2
    rep_view = client_for("rep_south").get("/api/sync/conflicts").json()["results"]
    assert [r["record_id"] for r in rep_view] == [south]


def test_conflicts_filter_by_record_and_date(client_for, people, world):
    survey = lose_a_notes_conflict(people, world, "rep_north")
    client = client_for("hq")
    assert client.get("/api/sync/conflicts", {"record_id": survey}).json()["count"] == 1
    assert client.get("/api/sync/conflicts", {"record_id": str(uuid.uuid4())}).json()["count"] == 0
    assert client.get("/api/sync/conflicts", {"since": "2999-01-01T00:00:00Z"}).json()["count"] == 0
    assert client.get("/api/sync/conflicts", {"since": "2000-01-01T00:00:00Z"}).json()["count"] == 1


def test_losing_value_is_reapplied_through_a_normal_edit(client_for, people, world):
    survey = lose_a_notes_conflict(people, world, "rep_north")
    client = client_for("rep_north")
    [row] = client.get("/api/sync/conflicts", {"record_id": survey}).json()["results"]
    response = client.patch(f"/api/surveys/{survey}/", {row["field"]: row["client_value"]})
    assert response.status_code == 200, response.content
    assert response.json()["notes"] == "lost"
    assert response.json()["version"] == 3


def test_conflicts_need_a_token(client):
    assert client.get("/api/sync/conflicts").status_code == 401


@pytest.mark.parametrize(
    ("since", "status"),
    [
        ("0693-09-10T07:24:09+20:05", 200),  # an offset PostgreSQL refuses: compared in UTC
        ("0001-01-01T00:00:00+01:00", 400),  # no UTC equivalent
        ("not a time", 400),
    ],
)
def test_conflicts_take_any_time_a_client_can_send(client_for, people, since, status):
    response = client_for("hq").get("/api/sync/conflicts", {"since": since})
    assert response.status_code == status
    if status == 400:
        assert "since" in response.json()


def test_the_conflict_log_follows_its_record_to_a_new_owner_and_region(client_for, people, world):
    """A store reassigned to another rep, then to another region: the conflicts logged on
    its survey go with it, and the side it left no longer sees them."""
    survey = lose_a_notes_conflict(people, world, "rep_north")
    store = world["rep_north"]["store"]

    def seen_by(who: str) -> list[str]:
        body = client_for(who).get("/api/sync/conflicts").json()
        return [row["record_id"] for row in body["results"]]

    response = client_for("manager_north").patch(
        f"/api/stores/{store}/", {"owner": people["rep_north_2"].pk}, format="json"
    )
    assert response.status_code == 200, response.content
    assert seen_by("rep_north") == []
    assert seen_by("rep_north_2") == [survey]

    response = client_for("hq").patch(
        f"/api/stores/{store}/",
        {"region": "south", "owner": people["rep_south"].pk},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert seen_by("rep_north_2") == []
    assert seen_by("manager_north") == []
    assert seen_by("manager_south") == [survey]
    assert survey in seen_by("rep_south")
