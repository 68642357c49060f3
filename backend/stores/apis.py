from drf_spectacular.utils import extend_schema, extend_schema_view

from stores.filters import StoreFilter
from stores.serializers import StoreWireSerializer
from sync.rest import SyncableViewSet


@extend_schema_view(
    list=extend_schema(summary="Stores in your scope"),
    create=extend_schema(summary="Create a store (reps: a prospect they own)"),
)
class StoreViewSet(SyncableViewSet):
    entity = "store"
    serializer_class = StoreWireSerializer
    filterset_class = StoreFilter
