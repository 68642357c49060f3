"""Surveys as syncable entities (photos register theirs in the photos app).

An approved survey feeds money (the subsidy quote) and reports, so it changes only under
review: a rep's edit sends it back to `pending` review, and a rep may not delete it (a
manager or HQ may; HQ's own corrections keep the verdict).
"""

from collections.abc import Collection, Sequence
from typing import Any

from django.db.models import Model

from accounts.models import Role
from surveys.models import SURVEY_MEASURES, ReviewStatus, SiteSurvey
from surveys.serializers import SurveyWireSerializer
from surveys.survey_distance import survey_derive, survey_prefetch
from sync.merge import Policy
from sync.registry import (
    ALL_ROLES,
    FIELD_ROLES,
    OFFICE_ROLES,
    EntitySpec,
    FieldSpec,
    RefKind,
    Refusal,
    ScopeRule,
    Touched,
    WriteContext,
    register,
)

APPROVED_DELETE_REFUSED = (
    "This survey is approved: it can no longer be deleted from the app. Edit it instead "
    "(it goes back to review), or ask your manager to remove it."
)


def review_reset(touched: Sequence[Touched], context: WriteContext) -> Collection[str]:
    """A rep's edit of an approved survey sends it back to review: its figures are no
    longer the ones a manager approved."""
    if getattr(context.actor, "role", None) != Role.REP:
        return ()
    names: set[str] = set()
    for item in touched:
        survey = item.record
        if (
            not item.created
            and item.changed - {"review_status"}
            and survey.review_status == ReviewStatus.APPROVED
        ):
            survey.review_status = ReviewStatus.PENDING
            names.add("review_status")
    return names


def survey_derive_all(
    touched: Sequence[Touched], prefetched: Any, context: WriteContext
) -> Collection[str]:
    return {*survey_derive(touched, prefetched, context), *review_reset(touched, context)}


def approved_survey_kept(record: Model, context: WriteContext) -> Refusal | None:
    """A rep may not delete an approved survey (409: the survey's state refuses it)."""
    if getattr(context.actor, "role", None) == Role.REP and (
        record.review_status == ReviewStatus.APPROVED
    ):
        return Refusal(
            {"detail": APPROVED_DELETE_REFUSED}, reason="conflict", code="survey_approved"
        )
    return None


MEASURE_POLICIES = {
    "customer_groups": Policy.UNION,
    "competitors": Policy.UNION,
    "equipment": Policy.UNION,
}


def survey_field(name: str, policy: Policy = Policy.LWW) -> FieldSpec:
    return FieldSpec(name, policy=policy, writers=FIELD_ROLES)


SURVEY = register(
    EntitySpec(
        name="survey",
        model=SiteSurvey,
        serializer=SurveyWireSerializer,
        fields=(
            # Managers re-attach records when they merge duplicate stores (stores.services).
            FieldSpec(
                "store",
                writers=ALL_ROLES,
                creators=FIELD_ROLES,
                ref=RefKind.RECORD,
                ref_entity="store",
            ),
            survey_field("trade_area_type"),
            # Lists merge as sets; the other measures, last writer wins per field.
            *(
                survey_field(name, MEASURE_POLICIES.get(name, Policy.LWW))
                for name in SURVEY_MEASURES
            ),
            survey_field("lat"),
            survey_field("lon"),
            survey_field("accuracy_m"),
            survey_field("captured_at"),
            survey_field("notes"),
            survey_field("template_version"),
            FieldSpec("review_status", policy=Policy.SERVER, writers=OFFICE_ROLES),
        ),
        readonly=("distance_m",),
        scope_rule=ScopeRule(parents=("store",)),
        creators=FIELD_ROLES,
        deleters=FIELD_ROLES,
        prefetch=survey_prefetch,
        derive=survey_derive_all,
        delete_checks=(approved_survey_kept,),
    )
)
