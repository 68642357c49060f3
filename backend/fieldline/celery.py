"""The task queue: Celery on Redis (or RabbitMQ) in production, inline in the demo and tests.

Heavy jobs (analytics recomputes, large exports, thumbnails, periodic reminders) are
Celery tasks in each app's `jobs.py` (not `tasks.py`: `tasks` is the app for field
tasks). Code enqueues them with `job.delay_on_commit(...)`, so a job never starts before
the transaction that asked for it has committed. Without `CELERY_BROKER_URL` the jobs
run inline, in the process that enqueued them: the one-command demo and the tests need
no broker. `celery -A fieldline worker --beat` runs them in production.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fieldline.settings")

app = Celery("fieldline")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(related_name="jobs")
