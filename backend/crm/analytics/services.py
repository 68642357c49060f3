"""Writes of the customer analytics: the recompute (segments, grades, tags, churn and the
reactivations it queues) and HQ's tag rules."""

import datetime as dt
import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from crm.analytics.models import AnalyticsRun, AnalyticsRunKind, TagRule
from crm.analytics.scoring import (
    AnalyticsParameters,
    ChurnWarning,
    SiteFeatures,
    StoreOrderStats,
    abc_grade,
    churn_flags,
    intent_score,
    potential_score,
    rfm_segments,
)
from crm.analytics.selectors import analytics_parameters, store_order_stats, store_site_features
from crm.analytics.tags import (
    TAG_NAME,
    RuleTag,
    StoreFacts,
    TagRuleInvalid,
    computed_tag_names,
    days_between,
    merged_tags,
    model_features,
    parse_conditions,
    store_tags,
)
from crm.calls.services import calls_queue_reactivation
from stores.models import Segment, Store
from sync.bulk import bulk_create_records, bulk_update_records
from sync.models import ChangeSource
from tasks.models import Task, TaskStatus, TaskType

logger = logging.getLogger(__name__)

# --- analytics recomputation ----------------------------------------------------------


@dataclass(frozen=True)
class RecomputeResult:
    run: AnalyticsRun
    segments: dict[uuid.UUID, str]
    grades: dict[uuid.UUID, str]
    warnings: list[ChurnWarning]
    tags: dict[uuid.UUID, dict[str, str]]


OPEN_TASK_STATUSES = (TaskStatus.OPEN, TaskStatus.ACCEPTED, TaskStatus.IN_PROGRESS)


def analytics_run_request(*, actor: User | None, as_of: dt.date | None = None) -> AnalyticsRun:
    """Record a recompute asked for now, to be run by `analytics_recompute(run=...)` (a
    background job): the caller gets the run to follow at once."""
    params = analytics_parameters(as_of=as_of or timezone.localdate())
    return AnalyticsRun.objects.create(
        kind=AnalyticsRunKind.RECOMPUTE,
        started_by=actor,
        started_at=timezone.now(),
        parameters=params.wire(),
    )


@transaction.atomic
def analytics_recompute(
    *,
    actor: User | None,
    as_of: dt.date | None = None,
    run: AnalyticsRun | None = None,
) -> RecomputeResult:
    """Recompute every store's RFM segment, ABC grade and tags; flag churn, queue
    reactivations.

    Segments, grades and tags are written through the sync engine's bulk path (only stores
    whose values change get a new version, so phones pull just those). Every churn warning
    queues a `reactivation` call (crm/calls/services.py); a flagged grade-A store (now or
    until this run) with an owner also gets one `reactivation` visit task unless one is
    already open. The run records its parameters, the tag rules it applied and its counts;
    given a requested `run` (from `analytics_run_request`), that run is filled in.
    """
    if run is not None:
        as_of = dt.date.fromisoformat(run.parameters["as_of"])
        actor = run.started_by
    params = analytics_parameters(as_of=as_of or timezone.localdate())
    now = timezone.now()
    if run is None:
        run = AnalyticsRun(kind=AnalyticsRunKind.RECOMPUTE, started_by=actor)
    run.started_at = now
    run.parameters = params.wire()
    run.save()
    stats = store_order_stats(params=params)
    segments, averages = rfm_segments(stats=stats, as_of=params.as_of)
    stats_of = {row.store_id: row for row in stats}
    sites = store_site_features()
    warnings = churn_flags(stats=stats, segment_of=segments, params=params)
    flagged = {warning.store_id for warning in warnings}
    rules = active_rule_tags()
    tag_conf = TagConfig.from_settings(rule_names=TagRule.objects.values_list("name", flat=True))
    grades: dict[uuid.UUID, str] = {}
    tags_of: dict[uuid.UUID, dict[str, str]] = {}
    changes: dict[uuid.UUID, dict[str, Any]] = {}
    for site in sites:
        row = stats_of.get(site.store_id)
        intent = intent_score(
            recent=row.trend_recent if row else 0, prior=row.trend_prior if row else 0
        )
        potential = potential_score(site=site, params=params)
        grade = abc_grade(intent=intent, potential=potential, params=params)
        grades[site.store_id] = grade
        segment = segments.get(site.store_id, "")
        kinds = _store_tags(
            site=site,
            row=row,
            segment=segment,
            grade=grade,
            intent=intent,
            potential=potential,
            churn_warning=site.store_id in flagged,
            params=params,
            conf=tag_conf,
            rules=rules,
        )
        tags_of[site.store_id] = kinds
        tags = merged_tags(
            current=site.tags, current_kinds=site.tag_kinds, computed=kinds, owned=tag_conf.owned
        )
        wanted = {"segment": segment, "grade": grade, "tags": tags, "tag_kinds": kinds}
        current = {
            "segment": site.segment,
            "grade": site.grade,
            "tags": list(site.tags),
            "tag_kinds": dict(site.tag_kinds),
        }
        if wanted != current:
            changes[site.store_id] = {k: v for k, v in wanted.items() if current[k] != v}
    changed = bulk_update_records(
        entity="store",
        values_by_id=changes,
        actor=actor,
        source=ChangeSource.SYSTEM,
        device_id=f"analytics-{run.pk}",
    )

    # A key account before this run counts too: the lapse that flags it also lowers the
    # intent that kept it at A.
    key_accounts = {site.store_id for site in sites if site.grade == "A"} | {
        store_id for store_id, grade in grades.items() if grade == "A"
    }
    tasks = _queue_reactivations(
        actor=actor, run=run, params=params, warnings=warnings, key_accounts=key_accounts
    )
    calls = calls_queue_reactivation(warnings=warnings, run=run, now=now)

    tag_counts: dict[str, int] = defaultdict(int)
    for kinds in tags_of.values():
        for tag in kinds:
            tag_counts[tag] += 1
    run.finished_at = timezone.now()
    run.counts = {
        "stores": len(sites),
        "stores_with_orders": len(stats),
        "active_stores": averages.active_stores,
        "segments": {
            segment: sum(1 for value in segments.values() if value == segment)
            for segment in Segment.values
        },
        "grades": {grade: sum(1 for g in grades.values() if g == grade) for grade in "ABC"},
        "tags": dict(sorted(tag_counts.items())),
        "stores_changed": changed,
        "churn_warnings": len(warnings),
        "reactivation_tasks": tasks,
        "reactivation_calls": calls,
    }
    run.parameters = params.wire() | {
        "averages": {
            "recency_days": averages.recency_days,
            "frequency": averages.frequency,
            "monetary": str(averages.monetary),
        },
        "tags": tag_conf.wire(),
        "tag_rules": [
            {"name": rule.name, "conditions": [asdict(c) for c in rule.conditions]}
            for rule in rules
        ],
    }
    run.save(update_fields=["finished_at", "counts", "parameters"])
    return RecomputeResult(
        run=run, segments=segments, grades=grades, warnings=warnings, tags=tags_of
    )


@dataclass(frozen=True)
class TagConfig:
    """The tag thresholds of one recompute, and every tag name the recompute owns."""

    new_customer_days: int
    high_footfall: int
    models: dict[str, Any]
    owned: frozenset[str]

    @classmethod
    def from_settings(cls, *, rule_names: Iterable[str]) -> "TagConfig":
        conf = settings.FIELDLINE
        models = conf["TAG_MODELS"]
        return cls(
            new_customer_days=conf["TAG_NEW_CUSTOMER_DAYS"],
            high_footfall=conf["TAG_HIGH_FOOTFALL"],
            models=models,
            owned=frozenset(computed_tag_names(models_conf=models) | set(rule_names)),
        )

    def wire(self) -> dict[str, Any]:
        return {
            "new_customer_days": self.new_customer_days,
            "high_footfall": self.high_footfall,
            "models": self.models,
        }


def active_rule_tags() -> list[RuleTag]:
    """The active HQ rule tags (conditions were validated when saved; one that no longer
    parses is skipped rather than failing the whole recompute)."""
    rules = []
    for name, conditions in TagRule.objects.filter(active=True).values_list("name", "conditions"):
        try:
            rules.append(RuleTag(name=name, conditions=tuple(parse_conditions(conditions))))
        except TagRuleInvalid:
            continue
    return rules


def _store_tags(
    *,
    site: SiteFeatures,
    row: StoreOrderStats | None,
    segment: str,
    grade: str,
    intent: float,
    potential: float,
    churn_warning: bool,
    params: AnalyticsParameters,
    conf: TagConfig,
    rules: Sequence[RuleTag],
) -> dict[str, str]:
    facts = StoreFacts(
        segment=segment,
        grade=grade,
        status=site.status,
        region=site.region,
        trade_area_type=site.trade_area_type,
        has_survey=site.has_survey,
        footfall_weekday=site.footfall_weekday,
        area_m2=site.area_m2,
        equipment=site.equipment,
        orders=row.orders if row else 0,
        window_orders=row.window_orders if row else 0,
        window_amount=row.window_amount if row else Decimal(0),
        days_since_first_order=days_between(params.as_of, row.first_order if row else None),
        days_since_last_order=days_between(params.as_of, row.last_order if row else None),
        intent=intent,
        potential=potential,
        churn_warning=churn_warning,
        manual_tags=tuple(
            tag for tag in site.tags if tag not in conf.owned and tag not in site.tag_kinds
        ),
    )
    features = model_features(
        facts=facts, full_footfall=params.full_footfall, full_area_m2=params.full_area_m2
    )
    return store_tags(
        facts=replace(facts, features=features),
        rules=rules,
        models_conf=conf.models,
        new_customer_days=conf.new_customer_days,
        high_footfall=conf.high_footfall,
    )


def _queue_reactivations(
    *,
    actor: User | None,
    run: AnalyticsRun,
    params: AnalyticsParameters,
    warnings: Sequence[ChurnWarning],
    key_accounts: set[uuid.UUID],
) -> int:
    flagged = [w.store_id for w in warnings if w.store_id in key_accounts]
    owners: dict[uuid.UUID, int] = {}
    already: set[uuid.UUID] = set()
    for start in range(0, len(flagged), 1000):
        ids = flagged[start : start + 1000]
        owners.update(
            Store.objects.filter(pk__in=ids, owner__isnull=False).values_list("pk", "owner_id")
        )
        already.update(
            Task.objects.filter(
                store_id__in=ids,
                type=TaskType.REACTIVATION,
                status__in=OPEN_TASK_STATUSES,
                deleted=False,
            ).values_list("store_id", flat=True)
        )
    due = (params.as_of + dt.timedelta(days=params.reactivation_due_days)).isoformat()
    by_store = {w.store_id: w for w in warnings}
    rows = [
        {
            "id": uuid.uuid4(),
            "store": store_id,
            "assignee": owners[store_id],
            "type": TaskType.REACTIVATION,
            "title": "Reactivate: no order since " + by_store[store_id].last_order.isoformat(),
            "status": TaskStatus.OPEN,
            "priority": 1,
            "due_date": due,
        }
        for store_id in flagged
        if store_id in owners and store_id not in already
    ]
    return bulk_create_records(
        entity="task",
        rows=rows,
        actor=actor,
        source=ChangeSource.SYSTEM,
        device_id=f"analytics-{run.pk}",
        extra={"created_by": actor},
    )


# --- tag rules ------------------------------------------------------------------------
# A rule takes effect at the next recompute, which adds its tag to the stores it matches
# and takes it off the others (and off every store once the rule is deleted).


class TagRuleRejected(Exception):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def _checked(*, name: str | None, conditions: Any | None, rule: TagRule | None) -> None:
    errors: dict[str, list[str]] = {}
    if name is not None:
        models_conf = settings.FIELDLINE["TAG_MODELS"]
        if not TAG_NAME.match(name):
            errors["name"] = ["2-50 characters: a lowercase letter, then a-z, 0-9 or _."]
        elif name in computed_tag_names(models_conf=models_conf):
            errors["name"] = [f"{name} is a computed tag; choose another name."]
        elif TagRule.objects.exclude(pk=getattr(rule, "pk", None)).filter(name=name).exists():
            errors["name"] = ["A rule with this name exists."]
    if conditions is not None:
        try:
            parse_conditions(conditions)
        except TagRuleInvalid as error:
            errors["conditions"] = error.messages
    if errors:
        raise TagRuleRejected(errors)


@transaction.atomic
def tag_rule_create(
    *, actor: User, name: str, conditions: Any, description: str = "", active: bool = True
) -> TagRule:
    _checked(name=name, conditions=conditions, rule=None)
    now = timezone.now()
    try:
        with transaction.atomic():
            return TagRule.objects.create(
                name=name,
                description=description,
                conditions=conditions,
                active=active,
                created_by=actor,
                created_at=now,
                updated_at=now,
            )
    except IntegrityError as error:  # the same name created concurrently
        raise TagRuleRejected({"name": ["A rule with this name exists."]}) from error


@transaction.atomic
def tag_rule_update(*, actor: User, rule: TagRule, changes: dict[str, Any]) -> TagRule:
    """Change a rule's name, description, conditions or active flag."""
    rule = TagRule.objects.select_for_update().get(pk=rule.pk)
    _checked(name=changes.get("name"), conditions=changes.get("conditions"), rule=rule)
    fields = [name for name in ("name", "description", "conditions", "active") if name in changes]
    for name in fields:
        setattr(rule, name, changes[name])
    rule.updated_at = timezone.now()
    try:
        with transaction.atomic():
            rule.save(update_fields=[*fields, "updated_at"])
    except IntegrityError as error:
        raise TagRuleRejected({"name": ["A rule with this name exists."]}) from error
    return rule


def tag_rule_delete(*, actor: User, rule: TagRule) -> None:
    TagRule.objects.filter(pk=rule.pk).delete()
