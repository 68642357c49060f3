"""Dispatch in HQ through the test client: a second dispatch skips stores with an open
task of the same type (the dry run says how many and which), a due date is required with
a default offered, a dispatch's page shows its tasks and cancels them through the sync
engine, and the dashboard tells stores with a survey task out from those without."""

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from stores.models import Store
from sync.models import ChangeLog
from tasks.models import Dispatch, Task
from tests.surveys import scenario

pytestmark = pytest.mark.django_db

FORM = {
    "trade_area_type": ["office"],
    "task_type": "survey",
    "title": "Site survey",
    "priority": "2",
    "due_date": "2026-12-20",
}


@pytest.fixture
def scene(people):
    built = scenario.build(people)
    Store.objects.filter(pk=built["stores"]["S1"]).update(address="Hafenstraße 1, Hamburg")
    people["rep_north"].first_name, people["rep_north"].last_name = "Rita", "Nord"
    people["rep_north"].save()
    return built


def browser(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_the_form_offers_a_due_date(scene, people, settings):
    settings.FIELDLINE = {**settings.FIELDLINE, "DISPATCH_DUE_DAYS": 5}
    html = text(browser(people["manager_north"]).get("/hq/dispatch/"))

    offered = (timezone.localdate() + dt.timedelta(days=5)).isoformat()
    assert re.search(rf'name="due_date" value="{offered}"[^>]* required', html)
    assert "Offered: 5 days from today." in html


def test_the_preview_shows_owners_by_name_and_stores_with_address(scene, people):
    html = text(
        browser(people["manager_north"]).post("/hq/dispatch/", {**FORM, "action": "preview"})
    )

    sample = html.split('id="preview-sample"')[1].split("</table>")[0]
    s1 = scene["stores"]["S1"]
    assert re.search(
        rf'<a href="/hq/stores/{s1}/">Kiosk 1</a></td><td>Hafenstraße 1, Hamburg</td>'
        r"<td>north</td><td>Rita Nord</td>",
        sample,
    )
    assert "<td>rep-north-2</td>" in sample  # no name given: the username


def test_a_second_dispatch_skips_and_the_dry_run_says_which(scene, people):
    client = browser(people["manager_north"])
    first = client.post("/hq/dispatch/", {**FORM, "action": "dispatch"})
    assert first.status_code == 302
    # Kiosk 1, 2 and 4 are office stores; now each has an open survey task.
    more = {**FORM, "trade_area_type": ["office", "residential"]}

    preview = text(client.post("/hq/dispatch/", {**more, "action": "preview"}))
    second = client.post("/hq/dispatch/", {**more, "action": "dispatch"})

    assert 'id="preview-count">2<' in preview  # Kiosk 3 and 5
    assert 'id="skipped-count">3<' in preview
    skipped = preview.split('id="skipped-sample"')[1].split("</table>")[0]
    assert re.findall(r">(Kiosk \d)</a>", skipped) == ["Kiosk 1", "Kiosk 2", "Kiosk 4"]
    dispatch = Dispatch.objects.order_by("created_at").last()
    assert (dispatch.task_count, dispatch.skipped_existing) == (2, 3)
    assert Task.objects.count() == 5
    assert Task.objects.values("store").distinct().count() == 5
    landed = text(client.get(second["Location"]))
    assert "Dispatched 2 tasks. 3 stores skipped: they already have an open task" in landed
    assert '<dd id="skipped-existing">3</dd>' in landed


def test_include_existing_sends_them_a_second_task(scene, people):
    client = browser(people["manager_north"])
    client.post("/hq/dispatch/", {**FORM, "action": "dispatch"})

    preview = text(
        client.post("/hq/dispatch/", {**FORM, "include_existing": "on", "action": "preview"})
    )
    client.post("/hq/dispatch/", {**FORM, "include_existing": "on", "action": "dispatch"})

    assert 'id="preview-count">3<' in preview
    assert 'id="skipped-count"' not in preview
    assert Task.objects.count() == 6
    assert Dispatch.objects.filter(include_existing=True, task_count=3).count() == 1


def test_cancel_from_the_dispatch_page_goes_through_the_sync_engine(scene, people):
    client = browser(people["manager_north"])
    done = client.post("/hq/dispatch/", {**FORM, "action": "dispatch"})
    dispatch = Dispatch.objects.get()
    started = Task.objects.filter(dispatch=dispatch).order_by("pk").first()
    Task.objects.filter(pk=started.pk).update(status="in_progress")

    page = text(client.get(done["Location"]))
    cancel = client.post(f"/hq/dispatch/{dispatch.pk}/cancel")
    after = text(client.get(cancel["Location"]))
    again = text(client.post(f"/hq/dispatch/{dispatch.pk}/cancel", follow=True))

    assert 'id="cancel-dispatch"' in page
    assert "withdraws the 2 tasks nobody has started" in page
    assert cancel.status_code == 302
    assert "Dispatch cancelled: 2 open tasks cancelled." in after
    assert 'id="cancel-dispatch"' not in after
    statuses = dict(Task.objects.filter(dispatch=dispatch).values_list("pk", "status"))
    assert statuses.pop(started.pk) == "in_progress"
    assert set(statuses.values()) == {"cancelled"}
    # Through the write path: versioned and in the changelog, so phones pull it.
    cancels = ChangeLog.objects.filter(entity="task", new_values__status="cancelled")
    assert set(cancels.values_list("record_id", flat=True)) == set(statuses)
    assert "This dispatch was already cancelled." in again


def test_dispatch_pages_are_scoped(scene, people):
    browser(people["manager_north"]).post("/hq/dispatch/", {**FORM, "action": "dispatch"})
    dispatch = Dispatch.objects.get()
    south = browser(people["manager_south"])

    assert south.get(f"/hq/dispatch/{dispatch.pk}/").status_code == 404
    assert south.post(f"/hq/dispatch/{dispatch.pk}/cancel").status_code == 404
    assert browser(people["rep_north"]).get(f"/hq/dispatch/{dispatch.pk}/").status_code == 403
    assert south.get(f"/hq/dispatch/{dispatch.pk}/cancel").status_code == 405
    assert Dispatch.objects.get().cancelled_at is None


def test_the_dashboard_tells_stores_with_a_survey_task_apart(scene, people):
    client = browser(people["manager_north"])
    before = text(client.get("/hq/"))
    # A survey task for Kiosk 4 (never surveyed), not for Kiosk 5 (stale survey).
    client.post(
        "/hq/dispatch/",
        {**FORM, "trade_area_type": [], "no_survey_days": "180", "grade": [], "action": "dispatch"},
    )
    Task.objects.filter(store_id=scene["stores"]["S5"]).update(status="done")
    after = text(client.get("/hq/"))

    assert 'id="needing-without-task-count">2<' in before
    assert 'id="needing-with-task-count">0<' in before
    assert 'id="needing-without-task-count">1<' in after
    assert 'id="needing-with-task-count">1<' in after
    without = after.split('id="needing-without-task"')[1].split('id="needing-with-task"')[0]
    with_task = after.split('id="needing-with-task"')[1].split("</table>")[0]
    assert "Kiosk 5" in without
    assert "Kiosk 4" not in without
    assert "Kiosk 4" in with_task
