from django.contrib import admin

from sync.admin import ReadOnlyAdmin
from tasks.models import Task


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin):
    list_display = [
        "store",
        "assignee",
        "type",
        "status",
        "due_date",
        "version",
        "updated_at",
        "deleted",
    ]
    list_filter = ["deleted"]
