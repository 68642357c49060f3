"""Background jobs of the call center (Celery; inline without a broker).

The periodic fill is safe to run again: a second run the same day adds nothing. Task names
stay those of the app's single jobs module they came from (`crm.jobs.*`): the beat
schedule and messages already queued use them.
"""

import datetime as dt

from celery import shared_task

from crm.calls.services import call_queues_generate


@shared_task(name="crm.jobs.call_queues_generate_job")
def call_queues_generate_job(today: str | None = None) -> dict[str, int]:
    """Expire stale calls, queue surveys by phone and new-customer callbacks."""
    day = dt.date.fromisoformat(today) if today else None
    return call_queues_generate(today=day).as_dict()
