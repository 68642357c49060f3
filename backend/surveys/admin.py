from django.contrib import admin

from surveys.models import SiteSurvey
from sync.admin import ReadOnlyAdmin


@admin.register(SiteSurvey)
class SiteSurveyAdmin(ReadOnlyAdmin):
    list_display = [
        "store",
        "trade_area_type",
        "review_status",
        "captured_at",
        "version",
        "updated_at",
        "deleted",
    ]
    list_filter = ["deleted"]
