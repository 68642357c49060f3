from django.contrib import admin

from reports.models import StoredFileRemoval


@admin.register(StoredFileRemoval)
class StoredFileRemovalAdmin(admin.ModelAdmin):
    """What the retention sweep removed from storage: read-only, it is the record."""

    list_display = ("removed_at", "kind", "name", "size_bytes", "subject_id", "reason")
    list_filter = ("kind",)
    search_fields = ("name", "subject_id")
    date_hierarchy = "removed_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
