from django.contrib import admin

from stores.models import Store
from sync.admin import ReadOnlyAdmin


@admin.register(Store)
class StoreAdmin(ReadOnlyAdmin):
    list_display = [
        "name",
        "region",
        "owner",
        "status",
        "trade_area_type",
        "grade",
        "segment",
        "version",
        "updated_at",
        "deleted",
    ]
    list_filter = ["deleted"]
