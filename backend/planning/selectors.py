"""Reads of visit planning: rules per region."""

from accounts.models import Region, User
from planning.models import PlanRules
from planning.services import RegionRules, default_rules, rules_of


def rules_list(*, actor: User, region: str | None = None) -> list[RegionRules]:
    """Every region's rules HQ sees, a manager their region's; a region without its own
    rules shows the defaults."""
    regions = Region.objects.order_by("code")
    if not actor.is_hq:
        regions = regions.filter(pk=actor.region_id)
    if region is not None:
        regions = regions.filter(pk=region)
    codes = list(regions.values_list("code", flat=True))
    rows = {row.region_id: row for row in PlanRules.objects.filter(region_id__in=codes)}
    return [rules_of(rows[code]) if code in rows else default_rules(code) for code in codes]
