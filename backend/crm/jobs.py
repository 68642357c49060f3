"""Background jobs of the crm app (see fieldline/celery.py)."""

from celery import shared_task

from crm.subsidy_services import coupons_expire


@shared_task(name="crm.expire_coupons")
def expire_coupons() -> int:
    """Expire coupons past their use window, one bounded batch per run; safe to repeat."""
    return coupons_expire()
