"""The survey templates in force as a read-only `template` entity of the pull: a phone
checks a survey against the same rules offline (see sync.feeds)."""

from typing import Any

from django.db.models import OuterRef, Subquery

from surveys.models import SurveyTemplate
from sync.feeds import ReadOnlyFeed
from sync.wire import format_datetime


def templates_in_force() -> list[dict[str, Any]]:
    """The latest version of each trade-area type's template, in wire form."""
    latest = SurveyTemplate.objects.filter(trade_area_type=OuterRef("trade_area_type")).order_by(
        "-version"
    )
    rows = SurveyTemplate.objects.filter(pk=Subquery(latest.values("pk")[:1])).order_by(
        "trade_area_type"
    )
    return [
        {
            "id": str(template.pk),
            "trade_area_type": template.trade_area_type,
            "version": template.version,
            "required_fields": template.required_fields,
            "conditional_fields": template.conditional_fields,
            "min_photos": template.min_photos,
            "gps_within_geofence": template.gps_within_geofence,
            "updated_at": format_datetime(template.created_at),
            "deleted": False,
        }
        for template in rows
    ]


TEMPLATE_FEED = ReadOnlyFeed(entity="template", records=templates_in_force)
