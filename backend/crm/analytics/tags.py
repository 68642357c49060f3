"""Store tags computed by the analytics recompute, and the condition language of rule tags.

Four kinds, so that a manager can tell a fact from a guess:

- fact: read off the data (`has_survey`, `new_customer`, `high_footfall`, `has_<equipment>`);
- model: a weighted sum of features against a cut (FIELDLINE["TAG_MODELS"]);
- predicted: what the analytics expect (`churn_risk`: flagged by the churn warning);
- rule: HQ's own tags (`TagRule`), a list of {field, op, value} conditions that must all
  hold. Conditions are data checked against a fixed vocabulary, never evaluated as code.

Everything here is pure: the recompute hands in the rows it has already read.
"""

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import models

from stores.models import Grade, Segment, StoreStatus, TradeAreaType
from surveys.models import Equipment


class TagKind(models.TextChoices):
    FACT = "fact", "Fact (from data)"
    MODEL = "model", "Model (weighted rule over facts)"
    PREDICTED = "predicted", "Predicted"
    RULE = "rule", "HQ rule"


# The equipment that earns a `has_<item>` fact tag (what reps and managers select on).
TAGGED_EQUIPMENT = ("coffee_machine", "microwave", "hot_food_cabinet", "bake_off")
FACT_TAGS = (
    "has_survey",
    "new_customer",
    "high_footfall",
    *(f"has_{item}" for item in TAGGED_EQUIPMENT),
)
PREDICTED_TAGS = ("churn_risk",)
LUNCH_TRADE_AREAS = frozenset({"office", "school", "hospital", "industrial"})
HOT_FOOD_EQUIPMENT = ("microwave", "hot_food_cabinet", "oven")
TAG_NAME = re.compile(r"^[a-z][a-z0-9_]{1,49}$")


@dataclass(frozen=True)
class StoreFacts:
    """What tags are computed from: one store's record, latest survey and order figures,
    as of the recompute's day."""

    segment: str = ""
    grade: str = ""
    status: str = ""
    region: str = ""
    trade_area_type: str = ""
    has_survey: bool = False
    footfall_weekday: int | None = None
    area_m2: float | None = None
    equipment: tuple[str, ...] = ()
    orders: int = 0
    window_orders: int = 0
    window_amount: Decimal = Decimal(0)
    days_since_first_order: int | None = None
    days_since_last_order: int | None = None
    intent: float = 0.0
    potential: float = 0.0
    churn_warning: bool = False
    manual_tags: tuple[str, ...] = ()
    features: Mapping[str, float] = field(default_factory=dict)


def model_features(
    *, facts: StoreFacts, full_footfall: int, full_area_m2: float
) -> dict[str, float]:
    """The features model tags weigh, each in [0, 1]."""
    return {
        "footfall": min((facts.footfall_weekday or 0) / full_footfall, 1.0),
        "area": min((facts.area_m2 or 0.0) / full_area_m2, 1.0),
        "lunch_trade_area": 1.0 if facts.trade_area_type in LUNCH_TRADE_AREAS else 0.0,
        "hot_food_equipment": len(set(facts.equipment) & set(HOT_FOOD_EQUIPMENT))
        / len(HOT_FOOD_EQUIPMENT),
        "intent": facts.intent,
        "potential": facts.potential,
        "recent_order": 1.0 if facts.window_orders > 0 else 0.0,
    }


MODEL_FEATURES = (
    "footfall",
    "area",
    "lunch_trade_area",
    "hot_food_equipment",
    "intent",
    "potential",
    "recent_order",
)


def fact_tags(*, facts: StoreFacts, new_customer_days: int, high_footfall: int) -> set[str]:
    tags = {f"has_{item}" for item in facts.equipment if item in TAGGED_EQUIPMENT}
    if facts.has_survey:
        tags.add("has_survey")
    if (
        facts.days_since_first_order is not None
        and facts.days_since_first_order <= new_customer_days
    ):
        tags.add("new_customer")
    if facts.footfall_weekday is not None and facts.footfall_weekday >= high_footfall:
        tags.add("high_footfall")
    return tags


def model_tags(*, features: Mapping[str, float], models_conf: Mapping[str, Any]) -> set[str]:
    """Each model tag whose weighted score reaches its cut (rounded, as ABC grades are)."""
    tags = set()
    for name, conf in models_conf.items():
        score = sum(weight * features.get(key, 0.0) for key, weight in conf["weights"].items())
        if round(score, 9) >= conf["min_score"]:
            tags.add(name)
    return tags


# --- rule tags: the condition language --------------------------------------------------

TEXT, NUMBER, LIST = "text", "number", "list"
RULE_FIELDS: dict[str, str] = {
    "segment": TEXT,
    "grade": TEXT,
    "status": TEXT,
    "region": TEXT,
    "trade_area_type": TEXT,
    "footfall_weekday": NUMBER,
    "area_m2": NUMBER,
    "orders": NUMBER,
    "window_orders": NUMBER,
    "window_amount": NUMBER,
    "days_since_last_order": NUMBER,
    "days_since_first_order": NUMBER,
    "intent": NUMBER,
    "potential": NUMBER,
    "equipment": LIST,
    # The store's other tags: set by hand, or fact, model and predicted ones of this run.
    "tags": LIST,
}
OPS = {
    TEXT: ("eq", "ne", "in", "not_in", "exists"),
    NUMBER: ("eq", "ne", "gt", "gte", "lt", "lte", "exists"),
    LIST: ("contains", "not_contains", "contains_any", "exists"),
}
TEXT_CHOICES: dict[str, set[str]] = {
    "segment": set(Segment.values) | {""},
    "grade": set(Grade.values) | {""},
    "status": set(StoreStatus.values),
    "trade_area_type": set(TradeAreaType.values) | {""},
}
LIST_CHOICES: dict[str, set[str]] = {"equipment": set(Equipment.values)}
MAX_CONDITIONS = 10
MAX_VALUES = 50


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any


class TagRuleInvalid(Exception):
    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and abs(value) < 1e15


def _check_text(name: str, value: Any, where: str) -> list[str]:
    if not isinstance(value, str) or len(value) > 50 or "\x00" in value:
        return [f"{where}: value must be a string of at most 50 characters (no NUL)."]
    allowed = TEXT_CHOICES.get(name) or LIST_CHOICES.get(name)
    if allowed is not None and value not in allowed:
        return [
            f"{where}: {value!r} is not a known {name} value; "
            f"use one of {', '.join(sorted(allowed))}."
        ]
    return []


def parse_conditions(raw: Any) -> list[Condition]:
    """Validate a rule's conditions; every problem is reported, with its position."""
    if not isinstance(raw, list) or not raw:
        raise TagRuleInvalid(["A non-empty list of {field, op, value} conditions is required."])
    if len(raw) > MAX_CONDITIONS:
        raise TagRuleInvalid([f"At most {MAX_CONDITIONS} conditions."])
    errors: list[str] = []
    conditions = []
    for index, item in enumerate(raw):
        where = f"condition {index + 1}"
        if not isinstance(item, dict) or set(item) != {"field", "op", "value"}:
            errors.append(f"{where}: an object with exactly field, op and value is required.")
            continue
        name, op, value = item["field"], item["op"], item["value"]
        if not isinstance(name, str) or name not in RULE_FIELDS:
            errors.append(f"{where}: unknown field; use one of {', '.join(RULE_FIELDS)}.")
            continue
        kind = RULE_FIELDS[name]
        if not isinstance(op, str) or op not in OPS[kind]:
            errors.append(f"{where}: {name} takes the operators {', '.join(OPS[kind])}.")
            continue
        if op == "exists":
            if not isinstance(value, bool):
                errors.append(f"{where}: exists takes true or false.")
        elif op in ("in", "not_in", "contains_any"):
            if not isinstance(value, list) or not value or len(value) > MAX_VALUES:
                errors.append(f"{where}: {op} takes a list of 1 to {MAX_VALUES} strings.")
            else:
                for item_value in value:
                    errors.extend(_check_text(name, item_value, where))
        elif kind == NUMBER:
            if not _is_number(value):
                errors.append(f"{where}: {name} compares with a number.")
        else:
            errors.extend(_check_text(name, value, where))
        conditions.append(Condition(field=name, op=op, value=value))
    if errors:
        raise TagRuleInvalid(errors)
    return conditions


def _value_of(facts: StoreFacts, name: str, tags: Iterable[str]) -> Any:
    if name == "tags":
        return tuple(tags)
    if name == "equipment":
        return facts.equipment if facts.has_survey else None
    value = getattr(facts, name)
    return float(value) if isinstance(value, Decimal) else value


def condition_holds(condition: Condition, *, facts: StoreFacts, tags: Iterable[str]) -> bool:
    """A condition on a missing value (no survey, no order) holds only for `exists: false`."""
    value = _value_of(facts, condition.field, tags)
    missing = value is None or (RULE_FIELDS[condition.field] == TEXT and value == "")
    op, wanted = condition.op, condition.value
    if op == "exists":
        return wanted is not missing
    if value is None:
        return False
    if op == "eq":
        return value == wanted
    if op == "ne":
        return value != wanted
    if op == "in":
        return value in wanted
    if op == "not_in":
        return value not in wanted
    if op == "gt":
        return value > wanted
    if op == "gte":
        return value >= wanted
    if op == "lt":
        return value < wanted
    if op == "lte":
        return value <= wanted
    if op == "contains":
        return wanted in value
    if op == "not_contains":
        return wanted not in value
    if op == "contains_any":
        return any(item in value for item in wanted)
    raise AssertionError(op)


@dataclass(frozen=True)
class RuleTag:
    name: str
    conditions: tuple[Condition, ...]


def store_tags(
    *,
    facts: StoreFacts,
    rules: Sequence[RuleTag],
    models_conf: Mapping[str, Any],
    new_customer_days: int,
    high_footfall: int,
) -> dict[str, str]:
    """The computed tags of one store, each with its kind."""
    kinds: dict[str, str] = {}
    for tag in fact_tags(
        facts=facts, new_customer_days=new_customer_days, high_footfall=high_footfall
    ):
        kinds[tag] = TagKind.FACT
    for tag in model_tags(features=facts.features, models_conf=models_conf):
        kinds[tag] = TagKind.MODEL
    if facts.churn_warning:
        kinds["churn_risk"] = TagKind.PREDICTED
    visible = (*facts.manual_tags, *kinds)
    for rule in rules:
        if rule.name not in kinds and all(
            condition_holds(condition, facts=facts, tags=visible) for condition in rule.conditions
        ):
            kinds[rule.name] = TagKind.RULE
    return {tag: str(kind) for tag, kind in sorted(kinds.items())}


def computed_tag_names(*, models_conf: Mapping[str, Any]) -> set[str]:
    """Names the recompute owns whatever rules exist (HQ may not name a rule tag so)."""
    return {*FACT_TAGS, *PREDICTED_TAGS, *models_conf}


def merged_tags(
    *,
    current: Sequence[str],
    current_kinds: Mapping[str, str],
    computed: Mapping[str, str],
    owned: set[str],
) -> list[str]:
    """Hand-set tags kept in their order, then the computed ones: a tag the recompute owns
    (any computed name, or one it set before) is in the list only if computed now."""
    manual = [tag for tag in current if tag not in owned and tag not in current_kinds]
    return [*manual, *(tag for tag in computed if tag not in manual)]


def days_between(later: dt.date, earlier: dt.date | None) -> int | None:
    return None if earlier is None else (later - earlier).days
