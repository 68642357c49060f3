"""Writes around surveys: template versions (HQ) and review verdicts (managers and HQ).

A verdict is a change of the survey's `review_status`, so it goes through the sync engine
and reaches the rep's phone; the review itself is kept as a history row, and a verdict
that sends the survey back opens a `review_fix` task for the store's owner, all in one
transaction. Tasks are the tasks app's records and that app sits above this one (a
dispatch picks stores by their surveys), so it hands its fix-task services in when it
loads (`fix_tasks_install`, from tasks/apps.py) instead of this module importing them.
"""

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import User
from stores.models import Store
from surveys.models import ReviewReason, ReviewVerdict, SiteSurvey, SurveyReview, SurveyTemplate
from sync.batch import apply_mutations
from sync.merge import Status
from sync.models import ChangeSource
from sync.mutations import Mutation
from sync.retries import retried_on_contention

SENDS_BACK = (ReviewVerdict.HAS_ISSUES, ReviewVerdict.REJECTED)


class FixTaskOpen(Protocol):
    def __call__(
        self,
        *,
        actor: User,
        store_id: uuid.UUID,
        assignee_id: int,
        title: str,
        priority: int,
        notes: str,
        at: dt.datetime,
    ) -> uuid.UUID: ...


class FixTasksClose(Protocol):
    def __call__(self, *, actor: User, task_ids: Sequence[uuid.UUID]) -> int: ...


@dataclass(frozen=True)
class FixTasks:
    """The tasks app's services for a review's fix tasks: open one, close open ones."""

    open: FixTaskOpen
    close: FixTasksClose


_fix_tasks: FixTasks | None = None


def fix_tasks_install(services: FixTasks) -> None:
    global _fix_tasks
    _fix_tasks = services


def fix_tasks() -> FixTasks:
    if _fix_tasks is None:
        raise RuntimeError("The tasks app has not installed its fix-task services.")
    return _fix_tasks


class ReviewInvalid(Exception):
    """The verdict breaks a review rule; `errors` says which field and what to do."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def review_rules_check(*, verdict: str, reasons: Mapping[str, Sequence[str]], comment: str) -> None:
    """A survey sent back (has issues, rejected) names at least one reason, for a field or
    for the whole survey, so the rep's fix task says what to fix; a reason of `other`
    says what in the comment. Raises ReviewInvalid; approving needs neither."""
    errors: dict[str, list[str]] = {}
    named = [code for codes in reasons.values() for code in codes]
    if verdict in SENDS_BACK and not named:
        errors["reasons"] = [
            gettext(
                "Name at least one reason (for a field or for the whole survey) when "
                "sending a survey back, so the rep knows what to fix."
            )
        ]
    if ReviewReason.OTHER in named and not comment.strip():
        errors["comment"] = [gettext("The reason “other” needs a comment saying what is wrong.")]
    if errors:
        raise ReviewInvalid(errors)


class ReviewRefused(Exception):
    """The sync engine refused the verdict (`reason` is its rejection reason)."""

    def __init__(self, errors: dict[str, Any], reason: str) -> None:
        super().__init__(errors)
        self.errors = errors
        self.reason = reason


def survey_template_create(
    *,
    actor: User,
    trade_area_type: str,
    required_fields: Sequence[str],
    conditional_fields: Sequence[Mapping[str, Any]],
    min_photos: Mapping[str, int],
    gps_within_geofence: bool = True,
    created_at: dt.datetime | None = None,
) -> SurveyTemplate:
    """The next version of a trade-area type's template; earlier versions stay as they are.

    `created_at` (now unless given) is when the version took effect: surveys that name no
    version are scored by the one in force when they were captured. Data loads that
    replay a history (the demo seed) pass it.

    Two HQ users saving at once collide on the (type, version) constraint; the loser
    takes the version after.
    """
    for attempt in range(3):
        try:
            with transaction.atomic():
                latest = SurveyTemplate.objects.filter(trade_area_type=trade_area_type).aggregate(
                    latest=Max("version")
                )["latest"]
                return SurveyTemplate.objects.create(
                    trade_area_type=trade_area_type,
                    version=(latest or 0) + 1,
                    required_fields=list(required_fields),
                    conditional_fields=[dict(rule) for rule in conditional_fields],
                    min_photos=dict(min_photos),
                    gps_within_geofence=gps_within_geofence,
                    created_by=actor,
                    created_at=created_at or timezone.now(),
                )
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def fix_task_notes(*, survey: SiteSurvey, reasons: Mapping[str, Sequence[str]], comment: str):
    lines = [comment] if comment else []
    lines += [f"{name}: {', '.join(codes)}" for name, codes in sorted(reasons.items())]
    lines.append(f"Survey {survey.pk}")
    return "\n".join(lines)[:5000]


@retried_on_contention
def survey_review(
    *,
    actor: User,
    survey: SiteSurvey,
    verdict: str,
    reasons: Mapping[str, Sequence[str]],
    comment: str = "",
) -> SurveyReview:
    """Record a verdict on a survey: its review status (synced), the history row, and for
    a survey sent back, a `review_fix` task for the store's owner. Approving a survey
    closes the fix tasks earlier reviews of it opened. A verdict that breaks the review
    rules (`review_rules_check`) raises ReviewInvalid and changes nothing."""
    review_rules_check(verdict=verdict, reasons=reasons, comment=comment)
    now = timezone.now()
    (result,) = apply_mutations(
        actor=actor,
        mutations=[
            Mutation(
                entity="survey",
                op="update",
                record_id=survey.pk,
                base_version=survey.version,
                fields={"review_status": verdict},
            )
        ],
        device_id="review",
        source=ChangeSource.REST,
        received_at=now,
    )
    if result.status == Status.REJECTED:
        raise ReviewRefused(result.errors or {}, result.reason)
    store = Store.objects.values("name", "owner_id").get(pk=survey.store_id)
    task_id = None
    if verdict in SENDS_BACK and store["owner_id"] is not None:
        task_id = fix_tasks().open(
            actor=actor,
            store_id=survey.store_id,
            assignee_id=store["owner_id"],
            title=f"Fix the survey of {store['name']}"[:200],
            priority=1 if verdict == ReviewVerdict.REJECTED else 2,
            notes=fix_task_notes(survey=survey, reasons=reasons, comment=comment),
            at=now,
        )
    elif verdict == ReviewVerdict.APPROVED:
        close_fix_tasks(actor=actor, survey=survey)
    return SurveyReview.objects.create(
        survey=survey,
        reviewer=actor,
        verdict=verdict,
        reasons={name: list(codes) for name, codes in reasons.items()},
        comment=comment,
        created_at=now,
        task_id=task_id,
    )


def close_fix_tasks(*, actor: User, survey: SiteSurvey) -> int:
    """Mark done the fix tasks earlier reviews of this survey opened and nobody closed."""
    task_ids = SurveyReview.objects.filter(survey=survey, task_id__isnull=False).values_list(
        "task_id", flat=True
    )
    return fix_tasks().close(actor=actor, task_ids=list(task_ids))
