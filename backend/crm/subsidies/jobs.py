"""Background jobs of subsidies and coupons (Celery; inline without a broker).

Task names stay those of the app's single jobs module they came from (`crm.jobs.*`): the
beat schedule and messages already queued use them.
"""

from celery import shared_task

from crm.subsidies.services import coupons_expire


@shared_task(name="crm.jobs.expire_coupons")
def expire_coupons() -> int:
    """Expire coupons past their use window, one bounded batch per run."""
    return coupons_expire()
