"""Writes of HQ's rule tags. A rule takes effect at the next analytics recompute, which
adds its tag to the stores it matches and takes it off the others (and off every store
once the rule is deleted)."""

from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from crm.models import TagRule
from crm.tags import TAG_NAME, TagRuleInvalid, computed_tag_names, parse_conditions


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
