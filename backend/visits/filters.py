import django_filters

from sync.rest import DateTimeFilter, RecordRefFilter
from visits.models import FollowUp, Visit


class VisitFilter(django_filters.FilterSet):
    check_in_after = DateTimeFilter(field_name="check_in_at", lookup_expr="gte")
    check_in_before = DateTimeFilter(field_name="check_in_at", lookup_expr="lt")
    store = RecordRefFilter(field_name="store")

    class Meta:
        model = Visit
        fields = ["store", "purpose", "geofence"]


class FollowUpFilter(django_filters.FilterSet):
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lte")
    due_after = django_filters.DateFilter(field_name="due_date", lookup_expr="gte")
    store = RecordRefFilter(field_name="store")
    visit = RecordRefFilter(field_name="visit")

    class Meta:
        model = FollowUp
        fields = ["store", "visit", "done"]
