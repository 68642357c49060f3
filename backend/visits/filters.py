import django_filters

from visits.models import FollowUp, Visit


class VisitFilter(django_filters.FilterSet):
    check_in_after = django_filters.IsoDateTimeFilter(field_name="check_in_at", lookup_expr="gte")
    check_in_before = django_filters.IsoDateTimeFilter(field_name="check_in_at", lookup_expr="lt")

    class Meta:
        model = Visit
        fields = ["store", "purpose", "geofence"]


class FollowUpFilter(django_filters.FilterSet):
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lte")
    due_after = django_filters.DateFilter(field_name="due_date", lookup_expr="gte")

    class Meta:
        model = FollowUp
        fields = ["store", "visit", "done"]
