import django_filters

from stores.selectors import json_list_has
from sync.rest import DateTimeFilter, RecordRefFilter
from visits.models import FollowUp, Visit, VisitFlag


class VisitFilter(django_filters.FilterSet):
    check_in_after = DateTimeFilter(field_name="check_in_at", lookup_expr="gte")
    check_in_before = DateTimeFilter(field_name="check_in_at", lookup_expr="lt")
    store = RecordRefFilter(field_name="store")
    flag = django_filters.ChoiceFilter(
        choices=VisitFlag.choices, method="filter_flag", label="Carries this fraud flag"
    )

    class Meta:
        model = Visit
        fields = ["store", "purpose", "geofence"]

    def filter_flag(self, queryset, name, value):
        return queryset.filter(json_list_has("flags", value))


class FollowUpFilter(django_filters.FilterSet):
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lte")
    due_after = django_filters.DateFilter(field_name="due_date", lookup_expr="gte")
    store = RecordRefFilter(field_name="store")
    visit = RecordRefFilter(field_name="visit")

    class Meta:
        model = FollowUp
        fields = ["store", "visit", "done"]
