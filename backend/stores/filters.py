import django_filters

from stores.models import Store
from sync.rest import DateTimeFilter, UserRefFilter


class StoreFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="Name contains")
    updated_since = DateTimeFilter(field_name="updated_at", lookup_expr="gte")
    tag = django_filters.CharFilter(method="filter_tag", label="Has this tag")
    owner = UserRefFilter(field_name="owner")
    closing_proposed = django_filters.BooleanFilter(
        field_name="closing_proposed_at",
        lookup_expr="isnull",
        exclude=True,
        label="A call found the store closed; its manager decides",
    )

    class Meta:
        model = Store
        fields = [
            "region",
            "owner",
            "status",
            "trade_area_type",
            "grade",
            "segment",
            "phone",
            "phone_verified",
        ]

    def filter_tag(self, queryset, name, value):
        return (
            queryset.filter(tags__contains=[value])
            if _json_contains_ok()
            else queryset.filter(tags__icontains=f'"{value}"')
        )


def _json_contains_ok() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"
