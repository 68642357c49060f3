from sync.rest import SyncableViewSet
from visits.filters import FollowUpFilter, VisitFilter
from visits.serializers import FollowUpWireSerializer, VisitWireSerializer


class VisitViewSet(SyncableViewSet):
    entity = "visit"
    serializer_class = VisitWireSerializer
    filterset_class = VisitFilter


class FollowUpViewSet(SyncableViewSet):
    entity = "followup"
    serializer_class = FollowUpWireSerializer
    filterset_class = FollowUpFilter
