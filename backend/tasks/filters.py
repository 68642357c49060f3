import django_filters

from sync.rest import RecordRefFilter, UserRefFilter
from tasks.models import Task


class TaskFilter(django_filters.FilterSet):
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lte")
    due_after = django_filters.DateFilter(field_name="due_date", lookup_expr="gte")
    store = RecordRefFilter(field_name="store")
    assignee = UserRefFilter(field_name="assignee")

    class Meta:
        model = Task
        fields = ["store", "assignee", "status", "type", "priority"]
