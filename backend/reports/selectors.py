"""Completeness by region, rep or trade-area type: SQL aggregates over the whole scope.

Surveys are scored in the database (see `surveys.selectors.scored`) and grouped with one
GROUP BY; stores without a survey or with only stale ones with another. Two queries,
whatever the number of surveys.
"""

from dataclasses import dataclass
from enum import StrEnum

from django.db.models import Avg, Case, Count, IntegerField, Q, QuerySet, Sum, Value, When
from django.utils import timezone

from accounts.models import User
from accounts.scope import scope_filter
from reports.models import ExportJob, ExportStatus
from stores.models import Store
from surveys.selectors import has_live_survey, scored, stale_before, survey_list


class GroupBy(StrEnum):
    REGION = "region"
    REP = "rep"
    TRADE_AREA_TYPE = "trade_area_type"


# What each grouping reads: on a scored survey, and on a store.
SURVEY_GROUP = {
    GroupBy.REGION: "store__region_id",
    GroupBy.REP: "store__owner__username",
    GroupBy.TRADE_AREA_TYPE: "scored_type",
}
STORE_GROUP = {
    GroupBy.REGION: "region_id",
    GroupBy.REP: "owner__username",
    GroupBy.TRADE_AREA_TYPE: "trade_area_type",
}


@dataclass(frozen=True)
class CompletenessRow:
    group: str | None
    surveys: int
    average_score: float | None
    complete: int
    missing_photos: int
    stores_without_survey: int
    stores_with_stale_survey: int


def count_where(condition: Q) -> Sum:
    return Sum(Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField()))


def completeness_report(*, actor: User, group_by: GroupBy) -> list[CompletenessRow]:
    """One row per group in the actor's scope. A survey is grouped by its store's region and
    owner, and by the trade-area type it is scored as; a store by its own. Surveys with no
    template for their type count in `surveys` but not in the score figures."""
    survey_key = SURVEY_GROUP[group_by]
    survey_rows = (
        scored(survey_list(actor=actor))
        .values(survey_key)
        .annotate(
            n=Count("pk"),
            average=Avg("score"),
            n_complete=Sum("complete"),
            n_short=Sum("photos_short"),
        )
        .order_by()
    )
    store_key = STORE_GROUP[group_by]
    since = stale_before(now=timezone.now())
    store_rows = (
        Store.objects.filter(scope_filter(user=actor), deleted=False)
        .values(store_key)
        .annotate(
            without=count_where(~Q(has_live_survey())),
            stale=count_where(Q(has_live_survey()) & ~Q(has_live_survey(captured_at__gte=since))),
        )
        .order_by()
    )
    figures: dict[str | None, dict] = {}
    for row in survey_rows:
        figures.setdefault(row[survey_key] or None, {}).update(
            surveys=row["n"],
            average_score=None if row["average"] is None else round(row["average"], 4),
            complete=row["n_complete"] or 0,
            missing_photos=row["n_short"] or 0,
        )
    for row in store_rows:
        entry = figures.setdefault(row[store_key] or None, {})
        entry["stores_without_survey"] = entry.get("stores_without_survey", 0) + row["without"]
        entry["stores_with_stale_survey"] = entry.get("stores_with_stale_survey", 0) + row["stale"]
    empty = {
        "surveys": 0,
        "average_score": None,
        "complete": 0,
        "missing_photos": 0,
        "stores_without_survey": 0,
        "stores_with_stale_survey": 0,
    }
    return [
        CompletenessRow(group=group, **(empty | figures[group]))
        for group in sorted(figures, key=lambda g: (g is None, g or ""))
    ]


def export_job_list(*, actor: User) -> QuerySet[ExportJob]:
    """The export jobs `actor` asked for, newest first: a job is its requester's alone."""
    return ExportJob.objects.filter(requested_by=actor).order_by("-created_at", "pk")


def export_job_progress(*, job: ExportJob) -> float | None:
    """The share of rows written, in [0, 1]; None before the job has counted them."""
    if job.status == ExportStatus.DONE:
        return 1.0
    if not job.rows_total:
        return None if job.rows_total is None else 1.0
    return round(min(job.rows_done / job.rows_total, 1.0), 4)
