"""Opening hours decide the `outside_opening_hours` flag of a rep's visits, so a rep only
proposes them; a manager confirms, and flags read the confirmed hours only."""

import uuid

import pytest

from stores.models import Store
from sync.models import ChangeLog
from tests.conftest import create
from tests.sync.phone import Phone
from tests.sync.test_watermelon import Device
from visits.models import Visit

pytestmark = pytest.mark.django_db(transaction=True)

OPEN_7_TO_22 = {day: [["07:00", "22:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat")}
ALWAYS = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
DENIED = (
    "Opening hours are confirmed by a manager: send your hours as opening_hours_proposed instead."
)


@pytest.fixture
def store(people) -> uuid.UUID:
    return create(
        "store",
        name="Kiosk",
        lat=53.5511,
        lon=9.9937,
        region="north",
        owner=people["rep_north"].pk,
        opening_hours=OPEN_7_TO_22,
    )


def test_a_reps_rest_write_of_opening_hours_is_403_and_changes_nothing(client_for, store):
    before = Store.objects.values().get(pk=store)

    response = client_for("rep_north").patch(
        f"/api/stores/{store}/", {"opening_hours": ALWAYS}, format="json"
    )

    assert response.status_code == 403, response.content
    assert response.json() == {"opening_hours": [DENIED], "code": "opening_hours_denied"}
    assert Store.objects.values().get(pk=store) == before


def test_a_reps_new_store_cannot_set_confirmed_hours_either(client_for):
    response = client_for("rep_north").post(
        "/api/stores/",
        {"name": "New", "lat": 53.56, "lon": 9.98, "region": "north", "opening_hours": ALWAYS},
        format="json",
    )

    assert response.status_code == 403
    assert response.json()["opening_hours"] == [DENIED]
    assert not Store.objects.filter(name="New").exists()


def test_a_pushed_write_of_opening_hours_is_rejected_with_a_code(client_for, store):
    phone = Phone(client_for("rep_north"))
    phone.replica[("store", str(store))] = {"id": str(store), "version": 1}
    phone.update("store", str(store), opening_hours=ALWAYS)

    (result,) = phone.push()

    assert result["status"] == "rejected"
    assert result["code"] == "opening_hours_denied"
    assert result["errors"] == {"opening_hours": [DENIED]}
    assert Store.objects.get(pk=store).opening_hours == OPEN_7_TO_22


def test_a_watermelon_write_of_opening_hours_is_refused(client_for, world, store):
    phone = Device(client_for("rep_north"))
    phone.pull()

    response = phone.push(
        {"stores": {"updated": [phone.row("stores", store, opening_hours='{"sun": []}')]}}
    )

    assert response.status_code == 409, response.content
    (refusal,) = response.json()["rejected"]
    assert refusal["code"] == "opening_hours_denied"
    assert Store.objects.get(pk=store).opening_hours == OPEN_7_TO_22


def test_proposed_hours_do_not_change_flags_until_a_manager_confirms(client_for, store):
    """The rep proposes 'always open' and checks in at 23:30 local: still flagged. The
    manager confirms: the proposal becomes the hours, and the next visit is not flagged."""
    rep = client_for("rep_north")
    response = rep.patch(f"/api/stores/{store}/", {"opening_hours_proposed": ALWAYS}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["opening_hours"] == OPEN_7_TO_22

    phone = Phone(rep)
    first = phone.create(
        "visit",
        store=str(store),
        check_in_at="2026-11-02T22:30:00Z",
        check_out_at="2026-11-02T22:31:00Z",
    )
    phone.push()
    assert Visit.objects.get(pk=first).flags == ["outside_opening_hours"]

    assert (
        rep.post(f"/api/stores/{store}/opening-hours/confirm/").status_code == 403
    )  # reps may not confirm their own proposal
    response = client_for("manager_north").post(f"/api/stores/{store}/opening-hours/confirm/")
    assert response.status_code == 200, response.content
    assert response.json()["opening_hours"] == ALWAYS
    assert response.json()["opening_hours_proposed"] == {}
    stored = Store.objects.get(pk=store)
    assert (stored.opening_hours, stored.opening_hours_proposed) == (ALWAYS, {})
    assert ChangeLog.objects.filter(entity="store", record_id=store).last().version == 3

    second = phone.create(
        "visit",
        store=str(store),
        check_in_at="2026-11-03T22:30:00Z",
        check_out_at="2026-11-03T22:31:00Z",
    )
    phone.push()
    assert Visit.objects.get(pk=second).flags == []


def test_confirming_without_a_proposal_is_409(client_for, store):
    response = client_for("manager_north").post(f"/api/stores/{store}/opening-hours/confirm/")

    assert response.status_code == 409
    assert response.json() == {"detail": "No opening hours are proposed for this store."}


def test_another_regions_manager_cannot_confirm(client_for, store):
    client_for("rep_north").patch(
        f"/api/stores/{store}/", {"opening_hours_proposed": ALWAYS}, format="json"
    )

    response = client_for("manager_south").post(f"/api/stores/{store}/opening-hours/confirm/")

    assert response.status_code == 404
    assert Store.objects.get(pk=store).opening_hours == OPEN_7_TO_22
