from django.contrib import admin

from sync.admin import ReadOnlyAdmin
from visits.models import Visit


@admin.register(Visit)
class VisitAdmin(ReadOnlyAdmin):
    list_display = [
        "store",
        "rep",
        "purpose",
        "check_in_at",
        "geofence",
        "version",
        "updated_at",
        "deleted",
    ]
    list_filter = ["deleted"]
