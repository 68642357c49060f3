"""Bulk dispatch: one task per matching store, to its owner, through the sync engine."""

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from stores.selectors import Near
from surveys.selectors import StoreSelection
from tasks.models import Dispatch, Task
from tasks.services import TaskTemplate, dispatch_tasks
from tests.conftest import create
from tests.sync.phone import Phone

HAMBURG_HBF = (53.5530, 10.0066)
TEMPLATE = {"type": "new_product", "title": "Present the new salad bowls", "due_date": "2026-12-15"}


@pytest.fixture
def stores(people):
    """60 north stores over two reps and 20 south ones, with varied site features."""
    made = {"north": [], "south": []}
    for n in range(80):
        region = "north" if n < 60 else "south"
        rep = (
            people["rep_south"]
            if region == "south"
            else (people["rep_north"] if n % 2 else people["rep_north_2"])
        )
        store = create(
            "store",
            name=f"Kiosk {n:02d}",
            lat=HAMBURG_HBF[0] + (n % 10) * 0.001 if region == "north" else 48.14,
            lon=HAMBURG_HBF[1] if region == "north" else 11.58,
            region=region,
            owner=rep.pk,
            grade="A" if n % 3 == 0 else "B",
            trade_area_type="office" if n % 4 == 0 else "residential",
            tags=["has_coffee_machine"] if n % 5 == 0 else [],
        )
        if n % 2 == 0:
            create(
                "survey",
                store=store,
                equipment=["microwave", "freezer"] if n % 4 == 0 else ["freezer"],
                footfall_weekday=100 + n * 10,
                captured_at=(timezone.now() - dt.timedelta(days=10 if n % 6 else 400)).isoformat(),
            )
        made[region].append(store)
    return made


def post_dispatch(client, filters, *, dry_run=False, task=TEMPLATE):
    return client.post(
        "/api/tasks/dispatch", {"filter": filters, "task": task, "dry_run": dry_run}, format="json"
    )


@pytest.mark.django_db
def test_dry_run_counts_and_samples_without_creating(client_for, stores):
    response = post_dispatch(client_for("manager_north"), {"grade": "A"}, dry_run=True)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 20  # n % 3 == 0 among the 60 north stores
    assert len(body["sample"]) == 10
    assert Task.objects.count() == 0
    assert Dispatch.objects.count() == 0


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, 60),
        ({"trade_area_type": "office"}, 15),
        ({"tags": ["has_coffee_machine"]}, 12),
        ({"equipment": ["microwave"]}, 15),
        ({"footfall_min": 300, "footfall_max": 500}, 11),  # n = 20, 22, ..., 40
        ({"no_survey_days": 180}, 40),  # 30 never surveyed, 10 only 400 days ago
        ({"region": "south"}, 0),  # another region: out of the manager's scope
        ({"near": {"lat": HAMBURG_HBF[0], "lon": HAMBURG_HBF[1], "radius_m": 250}}, 18),
        ({"grade": ["A"], "trade_area_type": ["office"]}, 5),
    ],
)
@pytest.mark.django_db
def test_filters_select_the_expected_stores(client_for, stores, filters, expected):
    response = post_dispatch(client_for("manager_north"), filters, dry_run=True)
    assert response.status_code == 200, response.content
    assert response.json()["count"] == expected


@pytest.mark.django_db(transaction=True)
def test_dispatch_reaches_each_owner_and_only_them(client_for, stores, people):
    phones = {who: Phone(client_for(who)) for who in ("rep_north", "rep_north_2", "rep_south")}
    for phone in phones.values():
        phone.pull()
    response = post_dispatch(client_for("manager_north"), {"grade": "A"})
    assert response.status_code == 201, response.content
    assert response.json()["created"] == 20
    for who, phone in phones.items():
        phone.pull()
        tasks = [t for t in phone.records("task").values() if t["type"] == "new_product"]
        expected = Task.objects.filter(assignee=people[who], type="new_product")
        assert {t["id"] for t in tasks} == {str(pk) for pk in expected.values_list("pk", flat=True)}
        assert all(t["assignee"] == people[who].pk for t in tasks)
    assert phones["rep_south"].records("task") == {}
    stored = Task.objects.filter(type="new_product")
    assert stored.count() == 20
    assert {t.store.owner_id for t in stored} == {t.assignee_id for t in stored}
    assert all(t.store.grade == "A" for t in stored)


@pytest.mark.django_db
def test_reps_may_not_dispatch(client_for, stores):
    assert post_dispatch(client_for("rep_north"), {}).status_code == 403
    assert Task.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"filter": {"colour": "red"}, "task": TEMPLATE}, "filter"),
        ({"filter": {"grade": "Z"}, "task": TEMPLATE}, "filter"),
        ({"filter": {"near": {"lat": 200, "lon": 0, "radius_m": 5}}, "task": TEMPLATE}, "filter"),
        ({"filter": {"footfall_min": 10, "footfall_max": 5}, "task": TEMPLATE}, "filter"),
        ({"filter": {}, "task": {"type": "party", "title": "x"}}, "task"),
        ({"filter": {}}, "task"),
    ],
)
@pytest.mark.django_db
def test_bad_dispatch_input_is_400_and_creates_nothing(client_for, stores, body, field):
    response = client_for("manager_north").post("/api/tasks/dispatch", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Task.objects.count() == 0
    assert Dispatch.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_cancel_cancels_the_whole_dispatch_except_started_tasks(client_for, stores, people):
    manager = client_for("manager_north")
    dispatch = post_dispatch(manager, {"trade_area_type": "office"}).json()
    started = Task.objects.filter(dispatch_id=dispatch["id"]).order_by("pk").first()
    # Office stores (n % 4 == 0) are all rep-north-2's.
    assert started.assignee == people["rep_north_2"]
    rep_client = client_for("rep_north_2")
    assert (
        rep_client.patch(f"/api/tasks/{started.pk}/", {"status": "in_progress"}).status_code == 200
    )
    phone = Phone(rep_client)
    phone.pull()
    response = manager.post(f"/api/tasks/dispatches/{dispatch['id']}/cancel")
    assert response.status_code == 200, response.content
    assert response.json()["cancelled_at"] is not None
    statuses = dict(Task.objects.filter(dispatch_id=dispatch["id"]).values_list("pk", "status"))
    assert statuses.pop(started.pk) == "in_progress"
    assert set(statuses.values()) == {"cancelled"}
    phone.pull()
    mine = [t for t in phone.records("task").values() if t["type"] == "new_product"]
    assert mine
    assert all(t["status"] in ("cancelled", "in_progress") for t in mine)
    again = manager.post(f"/api/tasks/dispatches/{dispatch['id']}/cancel")
    assert again.status_code == 400


@pytest.mark.django_db
def test_a_failing_dispatch_leaves_nothing_behind(people, stores, monkeypatch):
    from sync import bulk
    from sync.record_writer import RecordWriter

    calls = {"n": 0}
    original = RecordWriter.write

    def fail_on_second_chunk(writer, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("connection lost")
        return original(writer, **kwargs)

    monkeypatch.setattr(bulk, "CHUNK", 10)
    monkeypatch.setattr(RecordWriter, "write", fail_on_second_chunk)
    with pytest.raises(RuntimeError):
        dispatch_tasks(
            actor=people["manager_north"],
            selection=StoreSelection(),
            selection_wire={},
            template=TaskTemplate(type="visit", title="Visit"),
        )
    assert calls["n"] == 2  # the first chunk of tasks was written before the failure
    assert Task.objects.count() == 0
    assert Dispatch.objects.count() == 0


@pytest.mark.django_db
def test_near_matches_a_brute_force_distance(people, stores):
    from geopy.distance import great_circle

    from stores.models import Store
    from surveys.selectors import store_selection

    near = Near(lat=HAMBURG_HBF[0], lon=HAMBURG_HBF[1], radius_m=600)
    chosen = set(
        store_selection(actor=people["hq"], selection=StoreSelection(near=near)).values_list(
            "pk", flat=True
        )
    )
    brute = {
        pk
        for pk, lat, lon in Store.objects.values_list("pk", "lat", "lon")
        if great_circle((lat, lon), HAMBURG_HBF).m <= near.radius_m
    }
    assert chosen == brute
    assert chosen


@pytest.mark.django_db
def test_a_retried_request_id_answers_the_first_dispatch(client_for, stores):
    client = client_for("manager_north")
    body = {"filter": {"grade": "A"}, "task": TEMPLATE, "request_id": str(uuid.uuid4())}
    first = client.post("/api/tasks/dispatch", body, format="json")
    assert first.status_code == 201, first.content
    retry = client.post("/api/tasks/dispatch", body, format="json")
    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert Dispatch.objects.count() == 1
    assert Task.objects.count() == first.json()["created"] == 20
    other = {**body, "filter": {"grade": "B"}}
    refused = client.post("/api/tasks/dispatch", other, format="json")
    assert refused.status_code == 409
    assert "request_id" in refused.json()
    assert (Dispatch.objects.count(), Task.objects.count()) == (1, 20)
    # The same id is another manager's own: it makes their own dispatch.
    client_for("hq").post("/api/tasks/dispatch", body, format="json")
    assert Dispatch.objects.count() == 2


# --- no duplicates: stores with an open task of the same type are skipped ------------------


@pytest.mark.django_db
def test_a_second_dispatch_skips_stores_with_an_open_task_of_the_type(client_for, stores):
    manager = client_for("manager_north")
    first = post_dispatch(manager, {"grade": "A"})
    assert first.json()["created"] == 20
    assert first.json()["skipped_existing"] == 0

    preview = post_dispatch(manager, {}, dry_run=True)
    already = {str(pk) for pk in Task.objects.values_list("store_id", flat=True)}
    second = post_dispatch(manager, {})

    assert preview.status_code == 200, preview.content
    body = preview.json()
    assert (body["count"], body["skipped_existing"], body["include_existing"]) == (40, 20, False)
    assert len(body["skipped_sample"]) == 10
    skipped_ids = {row["id"] for row in body["skipped_sample"]}
    assert skipped_ids <= already
    assert {row["id"] for row in body["sample"]}.isdisjoint(already)
    assert set(body["sample"][0]) == {"id", "name", "address", "region", "owner", "owner_name"}
    assert second.status_code == 201, second.content
    assert (second.json()["created"], second.json()["skipped_existing"]) == (40, 20)
    assert Task.objects.count() == 60
    assert Task.objects.values("store").distinct().count() == 60  # one task per store


@pytest.mark.django_db
def test_include_existing_sends_a_second_task_and_other_types_are_not_skipped(client_for, stores):
    manager = client_for("manager_north")
    post_dispatch(manager, {"grade": "A"})

    other_type = post_dispatch(manager, {"grade": "A"}, task={**TEMPLATE, "type": "visit"})
    included = manager.post(
        "/api/tasks/dispatch",
        {"filter": {"grade": "A"}, "task": TEMPLATE, "include_existing": True},
        format="json",
    )

    assert (other_type.json()["created"], other_type.json()["skipped_existing"]) == (20, 0)
    assert included.status_code == 201, included.content
    body = included.json()
    assert (body["created"], body["skipped_existing"], body["include_existing"]) == (20, 0, True)
    assert Task.objects.filter(type="new_product").count() == 40


@pytest.mark.django_db
def test_done_and_cancelled_tasks_do_not_count_as_open(client_for, stores):
    manager = client_for("manager_north")
    dispatch = post_dispatch(manager, {"grade": "A"}).json()
    tasks = list(Task.objects.filter(dispatch_id=dispatch["id"]).order_by("pk"))
    Task.objects.filter(pk__in=[t.pk for t in tasks[:5]]).update(status="done")
    Task.objects.filter(pk__in=[t.pk for t in tasks[5:8]]).update(status="in_progress")
    manager.post(f"/api/tasks/dispatches/{dispatch['id']}/cancel")  # 12 open ones

    again = post_dispatch(manager, {"grade": "A"})

    # Done (5) and cancelled (12) tasks are no reason to skip; in progress (3) ones are.
    assert (again.json()["created"], again.json()["skipped_existing"]) == (17, 3)


@pytest.mark.django_db
def test_every_dispatched_task_has_a_due_date(client_for, stores, settings):
    settings.FIELDLINE = {**settings.FIELDLINE, "DISPATCH_DUE_DAYS": 10}
    manager = client_for("manager_north")
    task = {"type": "visit", "title": "Say hello"}

    made = post_dispatch(manager, {"grade": "A"}, task=task)
    refused = post_dispatch(manager, {"grade": "B"}, task={**task, "due_date": None})

    expected = (timezone.localdate() + dt.timedelta(days=10)).isoformat()
    assert made.status_code == 201, made.content
    assert made.json()["task_template"]["due_date"] == expected
    assert {t.due_date.isoformat() for t in Task.objects.all()} == {expected}
    assert refused.status_code == 400
    assert "due_date" in refused.json()["task"]
    assert Dispatch.objects.count() == 1


@pytest.mark.django_db
def test_a_retry_without_a_due_date_answers_the_first_dispatch(client_for, stores):
    client = client_for("manager_north")
    body = {
        "filter": {"grade": "A"},
        "task": {"type": "visit", "title": "Say hello"},
        "request_id": str(uuid.uuid4()),
    }
    first = client.post("/api/tasks/dispatch", body, format="json")
    retry = client.post("/api/tasks/dispatch", body, format="json")
    asked_to_include = client.post(
        "/api/tasks/dispatch", {**body, "include_existing": True}, format="json"
    )

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert asked_to_include.status_code == 409
    assert Dispatch.objects.count() == 1


@pytest.mark.parametrize(
    "selection",
    [
        {"tags": [f"tag-{n}" for n in range(20_000)]},
        {"tags": [f"tag-{n}" for n in range(101)]},
        {"grade": ["A"] * 101},
        {"segment": ["head_active"] * 101},
        {"status": ["prospect"] * 101},
        {"trade_area_type": ["office"] * 101},
        {"region": ["north"] * 101},
    ],
)
def test_every_list_in_a_dispatch_filter_is_bounded(client_for, stores, selection):
    """Regression: a filter of 20,000 tags took a dispatch 20 s. Beyond FILTER_MAX_ITEMS
    (100) items a list is a 400, and nothing is created."""
    body = {"filter": selection, "task": {"type": "visit", "title": "Visit"}, "dry_run": True}
    response = client_for("manager_north").post("/api/tasks/dispatch", body, format="json")
    assert response.status_code == 400, response.content[:300]
    assert Task.objects.filter(title="Visit").count() == 0


def test_a_filter_list_at_the_bound_is_read(client_for, stores):
    selection = {"tags": [f"tag-{n}" for n in range(100)]}
    body = {"filter": selection, "task": {"type": "visit", "title": "Visit"}, "dry_run": True}
    response = client_for("manager_north").post("/api/tasks/dispatch", body, format="json")
    assert response.status_code == 200, response.content[:300]
