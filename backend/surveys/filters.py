import django_filters

from surveys.models import Photo, SiteSurvey


class SurveyFilter(django_filters.FilterSet):
    captured_after = django_filters.IsoDateTimeFilter(field_name="captured_at", lookup_expr="gte")
    captured_before = django_filters.IsoDateTimeFilter(field_name="captured_at", lookup_expr="lt")
    updated_since = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = SiteSurvey
        fields = ["store", "review_status", "trade_area_type", "signal_quality"]


class PhotoFilter(django_filters.FilterSet):
    class Meta:
        model = Photo
        fields = ["survey", "visit", "section", "sha256"]
