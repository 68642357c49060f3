from sync.rest import SyncableViewSet
from tasks.filters import TaskFilter
from tasks.serializers import TaskWireSerializer


class TaskViewSet(SyncableViewSet):
    entity = "task"
    serializer_class = TaskWireSerializer
    filterset_class = TaskFilter
