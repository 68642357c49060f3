"""Admin views of syncable records are read-only: every change goes through the sync
engine (so that phones learn of it), which the admin's own save() would bypass."""

from django.contrib import admin

from sync.models import ChangeLog, ConflictLog


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ChangeLog)
class ChangeLogAdmin(ReadOnlyAdmin):
    list_display = ["at", "entity", "record_id", "version", "op", "source", "actor", "device_id"]
    list_filter = ["entity", "op", "source"]
    search_fields = ["record_id"]


@admin.register(ConflictLog)
class ConflictLogAdmin(ReadOnlyAdmin):
    list_display = ["at", "entity", "record_id", "field", "kept", "actor", "device_id"]
    list_filter = ["entity", "kept"]
    search_fields = ["record_id"]
