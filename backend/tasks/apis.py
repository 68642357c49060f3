from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsOffice
from sync.rest import SyncableViewSet
from tasks.filters import TaskFilter
from tasks.models import Dispatch
from tasks.selectors import dispatch_list
from tasks.serializers import (
    DispatchPreviewSerializer,
    DispatchRequestSerializer,
    DispatchSerializer,
    StoreSelectionSerializer,
    TaskTemplateSerializer,
    TaskWireSerializer,
)
from tasks.services import (
    DispatchAlreadyCancelled,
    DispatchRequestReused,
    dispatch_cancel,
    dispatch_preview,
    dispatch_tasks,
)


class TaskViewSet(SyncableViewSet):
    entity = "task"
    serializer_class = TaskWireSerializer
    filterset_class = TaskFilter


class DispatchApi(APIView):
    """Send a task to every store a filter matches, each assigned to the store's owner.

    Stores that already have an open task of the same type are skipped unless
    `include_existing`; the answer counts them in `skipped_existing`. With `dry_run`
    nothing is created: the answer says how many tasks would be, how many stores would be
    skipped, and shows a few of each. With a `request_id`, a retried request answers the
    dispatch it made.
    """

    permission_classes = [IsAuthenticated, IsOffice]

    @extend_schema(
        request=DispatchRequestSerializer,
        responses={
            201: DispatchSerializer,
            200: DispatchPreviewSerializer,
            409: OpenApiTypes.OBJECT,
        },
    )
    def post(self, request: Request) -> Response:
        payload = DispatchRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        selection_input = StoreSelectionSerializer(data=request.data["filter"])
        selection_input.is_valid(raise_exception=True)
        template_input = TaskTemplateSerializer(data=request.data["task"])
        template_input.is_valid(raise_exception=True)
        include_existing = payload.validated_data["include_existing"]
        if payload.validated_data["dry_run"]:
            preview = dispatch_preview(
                actor=request.user,
                selection=selection_input.selection(),
                task_type=template_input.validated_data["type"],
                include_existing=include_existing,
            )
            return Response(DispatchPreviewSerializer(preview).data)
        try:
            dispatch = dispatch_tasks(
                actor=request.user,
                selection=selection_input.selection(),
                selection_wire=request.data["filter"],
                template=template_input.template(),
                request_id=payload.validated_data.get("request_id"),
                include_existing=include_existing,
            )
        except DispatchRequestReused:
            return Response(
                {"request_id": ["This id already made a dispatch of another filter or task."]},
                status=status.HTTP_409_CONFLICT,
            )
        return Response(DispatchSerializer(dispatch).data, status=status.HTTP_201_CREATED)


class DispatchListApi(ListAPIView):
    """Dispatches made by you (managers) or by anyone (HQ), newest first."""

    permission_classes = [IsAuthenticated, IsOffice]
    serializer_class = DispatchSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Dispatch.objects.none()
        return dispatch_list(actor=self.request.user)


class DispatchCancelApi(APIView):
    """Cancel a whole dispatch: every task of it that nobody has started."""

    permission_classes = [IsAuthenticated, IsOffice]

    @extend_schema(request=None, responses={200: DispatchSerializer})
    def post(self, request: Request, pk) -> Response:
        dispatch = get_object_or_404(dispatch_list(actor=request.user), pk=pk)
        try:
            dispatch_cancel(actor=request.user, dispatch=dispatch)
        except DispatchAlreadyCancelled as error:
            raise ValidationError({"detail": "This dispatch is already cancelled."}) from error
        dispatch.refresh_from_db()
        return Response(DispatchSerializer(dispatch).data)
