from surveys.filters import PhotoFilter, SurveyFilter
from surveys.serializers import PhotoWireSerializer, SurveyWireSerializer
from sync.rest import SyncableViewSet


class SurveyViewSet(SyncableViewSet):
    entity = "survey"
    serializer_class = SurveyWireSerializer
    filterset_class = SurveyFilter


class PhotoViewSet(SyncableViewSet):
    entity = "photo"
    serializer_class = PhotoWireSerializer
    filterset_class = PhotoFilter
