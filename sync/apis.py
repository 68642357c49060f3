"""HTTP endpoints of the sync protocol: push, pull, the conflict log and the audit log."""

import django_filters
from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.views import APIView

from accounts.permissions import IsHQ
from accounts.scope import scope_filter
from fieldline.conf import fieldline_settings
from sync.models import ChangeLog, ConflictLog
from sync.pull import CursorExpired, CursorInvalid, pull_page
from sync.push import PushInvalid, PushTooLarge, push
from sync.rest import DateTimeFilter
from sync.selectors import AuditFilter, audit_log
from sync.wire import dumps


class PushMutationSerializer(serializers.Serializer):
    mutation_id = serializers.UUIDField()
    entity = serializers.ChoiceField(
        choices=["store", "survey", "visit", "task", "photo", "followup"]
    )
    op = serializers.ChoiceField(choices=["create", "update", "delete"])
    record_id = serializers.UUIDField()
    base_version = serializers.IntegerField(required=False, min_value=0)
    client_ts = serializers.DateTimeField(required=False)
    fields = serializers.DictField(required=False)


class PushRequestSerializer(serializers.Serializer):
    device_id = serializers.CharField(max_length=64, required=False)
    mutations = PushMutationSerializer(many=True)


class MutationResultSerializer(serializers.Serializer):
    mutation_id = serializers.UUIDField(allow_null=True)
    status = serializers.ChoiceField(choices=["applied", "merged", "conflict", "rejected"])
    record = serializers.DictField(required=False, allow_null=True)
    conflicts = serializers.ListField(child=serializers.DictField(), required=False)
    errors = serializers.DictField(required=False)
    code = serializers.CharField(
        required=False,
        help_text="On some rejections: the rule that refused the mutation "
        "(e.g. survey_approved, opening_hours_denied, task_transition).",
    )
    replayed = serializers.BooleanField(
        required=False,
        help_text="Present and true when this mutation id was answered before (in an "
        "earlier push or earlier in this one): the first answer, given again; nothing was "
        "applied now.",
    )


class PushResponseSerializer(serializers.Serializer):
    results = MutationResultSerializer(many=True)


class PullChangeSerializer(serializers.Serializer):
    entity = serializers.CharField()
    op = serializers.ChoiceField(choices=["upsert", "delete"])
    record = serializers.DictField(required=False)
    id = serializers.UUIDField(required=False)


class PullProgressSerializer(serializers.Serializer):
    tier = serializers.IntegerField(help_text="0: today's work (first sync); 1: the rest.")
    tier_complete = serializers.BooleanField()
    received = serializers.IntegerField(help_text="Changes sent so far in this walk.")
    estimated_total = serializers.IntegerField(help_text="Changes the walk will carry.")


class PullResponseSerializer(serializers.Serializer):
    changes = PullChangeSerializer(many=True)
    cursor = serializers.CharField()
    has_more = serializers.BooleanField()
    progress = PullProgressSerializer()


def json_response(body, status_code: int = 200) -> HttpResponse:
    return HttpResponse(dumps(body), status=status_code, content_type="application/json")


class LargeAnswerView(APIView):
    """A view whose answers run to megabytes (pages of records, a push's results).

    DRF's view and its request refer to each other, and the view keeps its response: the
    answer would outlive the request until the cyclic garbage collector's next full pass.
    A pull page allocates few objects that the collector tracks, so that pass came rarely,
    and a gunicorn worker grew by every page it served. The view lets go of the response
    once it has returned it.
    """

    def dispatch(self, request, *args, **kwargs):
        response = super().dispatch(request, *args, **kwargs)
        self.response = None
        return response


class PushApi(LargeAnswerView):
    """Apply a phone's queued mutations in order; see the sync protocol for the rules."""

    @extend_schema(
        request=PushRequestSerializer,
        responses={200: PushResponseSerializer, 413: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request) -> HttpResponse:
        try:
            outcome = push(
                actor=request.user,
                body=request.data,
                max_mutations=fieldline_settings.SYNC_MAX_MUTATIONS,
            )
        except PushTooLarge as error:
            return json_response({"detail": str(error)}, status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        except PushInvalid as error:
            return json_response(error.errors, status.HTTP_400_BAD_REQUEST)
        return json_response({"results": outcome.results})


class PullApi(LargeAnswerView):
    """Changes in your scope after `cursor` (none: from the beginning), oldest first."""

    @extend_schema(
        parameters=[
            OpenApiParameter("cursor", str, required=False),
            OpenApiParameter("limit", int, required=False),
        ],
        responses={200: PullResponseSerializer, 400: OpenApiTypes.OBJECT, 410: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> HttpResponse:
        limits = settings.FIELDLINE
        raw_limit = request.query_params.get("limit", str(limits["SYNC_PULL_DEFAULT_LIMIT"]))
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= limits["SYNC_PULL_MAX_LIMIT"]:
            raise ValidationError(
                {"limit": [f"An integer from 1 to {limits['SYNC_PULL_MAX_LIMIT']}."]}
            )
        try:
            page = pull_page(
                user=request.user,
                cursor_text=request.query_params.get("cursor") or None,
                limit=int(raw_limit),
            )
        except CursorInvalid as error:
            raise ValidationError({"cursor": [str(error)]}) from error
        except CursorExpired:
            return json_response({"detail": "resync"}, status.HTTP_410_GONE)
        # Read by the device headers middleware: how far this device has come.
        request._request.sync_cursor_position = page.position
        return json_response(
            {
                "changes": page.changes,
                "cursor": page.cursor,
                "has_more": page.has_more,
                "progress": page.progress,
            }
        )


class ConflictSerializer(serializers.ModelSerializer):
    actor = serializers.IntegerField(source="actor_id", allow_null=True)

    class Meta:
        model = ConflictLog
        fields = [
            "id",
            "entity",
            "record_id",
            "field",
            "policy",
            "client_value",
            "server_value",
            "resolved_value",
            "kept",
            "actor",
            "device_id",
            "mutation_id",
            "client_ts",
            "at",
        ]
        read_only_fields = fields


class ConflictFilter(django_filters.FilterSet):
    since = DateTimeFilter(field_name="at", lookup_expr="gte")
    until = DateTimeFilter(field_name="at", lookup_expr="lt")

    class Meta:
        model = ConflictLog
        fields = ["entity", "record_id", "field", "kept", "device_id"]


class ConflictListApi(generics.ListAPIView):
    """Fields resolved against a phone's value, both values kept; newest first."""

    serializer_class = ConflictSerializer
    filterset_class = ConflictFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ConflictLog.objects.none()
        return ConflictLog.objects.filter(scope_filter(user=self.request.user)).order_by(
            "-at", "-id"
        )


class AuditQuerySerializer(serializers.Serializer):
    entity = serializers.ChoiceField(
        choices=["store", "survey", "visit", "task", "photo", "followup"], required=False
    )
    record_id = serializers.UUIDField(required=False)
    actor = serializers.IntegerField(required=False, min_value=1)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)


class AuditEntrySerializer(serializers.ModelSerializer):
    actor = serializers.IntegerField(source="actor_id", allow_null=True)

    class Meta:
        model = ChangeLog
        fields = [
            "id",
            "entity",
            "record_id",
            "version",
            "op",
            "old_values",
            "new_values",
            "actor",
            "device_id",
            "source",
            "mutation_id",
            "at",
        ]
        read_only_fields = fields


class AuditLogApi(generics.ListAPIView):
    """Who changed what, from which device and path, with old and new values; newest
    first. HQ only."""

    permission_classes = [IsHQ]
    serializer_class = AuditEntrySerializer
    filter_backends: list = []

    @extend_schema(parameters=[AuditQuerySerializer])
    def get(self, request: Request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ChangeLog.objects.none()
        query = AuditQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        return audit_log(
            filters=AuditFilter(
                entity=params.get("entity"),
                record_id=params.get("record_id"),
                actor_id=params.get("actor"),
                since=params.get("since"),
                until=params.get("until"),
            )
        )
