"""Reads of the orders import: the jobs each user may see, and their progress."""

from django.db.models import QuerySet

from accounts.models import Role, User
from crm.orders.models import OrderImportJob, OrderImportStatus


def order_import_job_list(*, actor: User) -> QuerySet[OrderImportJob]:
    """The orders import jobs `actor` may see, newest first: HQ all (imports are HQ's
    work, shared between its members), anyone else only their own."""
    jobs = OrderImportJob.objects.select_related("requested_by")
    if actor.role != Role.HQ:
        jobs = jobs.filter(requested_by=actor)
    return jobs.order_by("-created_at", "pk")


def order_import_job_progress(*, job: OrderImportJob) -> float | None:
    """The share of rows imported, in [0, 1]; None before the job has counted them."""
    if job.status == OrderImportStatus.DONE:
        return 1.0
    if job.rows_total is None:
        return None
    if not job.rows_total:
        return 1.0
    return round(min(job.rows_done / job.rows_total, 1.0), 4)
