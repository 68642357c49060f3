import django_filters

from surveys.models import Photo
from sync.rest import RecordRefFilter


class PhotoFilter(django_filters.FilterSet):
    survey = RecordRefFilter(field_name="survey")
    visit = RecordRefFilter(field_name="visit")

    class Meta:
        model = Photo
        fields = ["survey", "visit", "section", "sha256"]
