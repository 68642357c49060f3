"""Background jobs: every scheduled job exists, and jobs run inline without a broker."""

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from fieldline.celery import app
from tests.conftest import create
from visits.jobs import raise_followup_reminders
from visits.models import FollowUpReminder


def test_every_scheduled_job_is_a_registered_task():
    app.loader.import_default_modules()
    registered = set(app.tasks)
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in registered, f"beat entry {name!r} names an unknown job"


def test_without_a_broker_jobs_run_inline():
    assert app.conf.task_always_eager
    assert app.conf.task_eager_propagates


@pytest.mark.django_db
def test_followup_reminder_job_raises_reminders_once(people):
    rep = people["rep_north"]
    store = create(
        "store",
        name="Kiosk am Markt",
        phone="+4940123456",
        region=rep.region.code,
        owner=rep.pk,
        lat=53.55,
        lon=9.99,
    )
    create("followup", store=store, due_date=timezone.localdate() + dt.timedelta(days=1))

    raise_followup_reminders.delay()
    raise_followup_reminders.delay()

    assert list(FollowUpReminder.objects.values_list("user_id", flat=True)) == [rep.pk]
