import django_filters

from surveys.models import SiteSurvey, SurveyTemplate
from sync.rest import DateTimeFilter, RecordRefFilter


class SurveyFilter(django_filters.FilterSet):
    captured_after = DateTimeFilter(field_name="captured_at", lookup_expr="gte")
    captured_before = DateTimeFilter(field_name="captured_at", lookup_expr="lt")
    updated_since = DateTimeFilter(field_name="updated_at", lookup_expr="gte")
    store = RecordRefFilter(field_name="store")
    region = django_filters.CharFilter(field_name="store__region", label="Region of the store")

    class Meta:
        model = SiteSurvey
        fields = ["store", "review_status", "trade_area_type", "signal_quality"]


class SurveyTemplateFilter(django_filters.FilterSet):
    class Meta:
        model = SurveyTemplate
        fields = ["trade_area_type", "version"]
