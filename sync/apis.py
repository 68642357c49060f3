"""HTTP endpoints of the sync protocol: push, pull, the conflict log and the audit log."""

import django_filters
from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.views import APIView

from accounts.permissions import IsHQ
from accounts.scope import scope_filter
from fieldline.conf import fieldline_settings
from fieldline.inputs import parse_count
from fieldline.parsers import EnvelopeJSONParser
from fieldline.query_params import refuse_unknown_query_params
from fieldline.replicas import READ_FROM_HEADER, ReplicaRead, read_on_replica
from sync.cursors import CursorExpired, CursorInvalid
from sync.models import ChangeLog, ConflictLog
from sync.openapi import (
    FIELD_ERRORS,
    RESYNC,
    TOO_LARGE,
    UNAUTHORIZED,
    UNAVAILABLE,
    UNSUPPORTED,
    UPGRADE,
    any_record_schema,
    pull_change_proxy,
    pull_parameters,
    push_mutation_proxy,
    schema_field,
)
from sync.pull import pull_page
from sync.push import PushInvalid, PushTooLarge, push
from sync.rest import DateTimeFilter
from sync.selectors import AuditFilter, audit_log
from sync.wire import dumps

PushMutationField = schema_field(push_mutation_proxy(), serializers.DictField)
PullChangeField = schema_field(pull_change_proxy(), serializers.DictField)
# Registered entities are known here: URL confs load after every app's `ready()`.
AnyRecordField = schema_field(any_record_schema(), serializers.DictField)


class PushRequestSerializer(serializers.Serializer):
    device_id = serializers.CharField(
        max_length=64, required=False, help_text="The phone's id (also `X-Device-Id`)."
    )
    mutations = serializers.ListField(
        child=PushMutationField(),
        help_text="In the order they were made; at most FIELDLINE SYNC_MAX_MUTATIONS (500).",
    )


class MutationConflictSerializer(serializers.Serializer):
    field = serializers.CharField()
    client_value = serializers.JSONField(help_text="What the phone sent.")
    server_value = serializers.JSONField(help_text="What another device had stored.")
    kept = serializers.ChoiceField(
        choices=["client", "server", "merged"], help_text="Which one the record now has."
    )


class MutationResultSerializer(serializers.Serializer):
    """One mutation's answer, in the order sent. `applied`, `merged` and `conflict` carry
    the record as it now is; `rejected` carries `errors` and changed nothing."""

    mutation_id = serializers.UUIDField(allow_null=True)
    status = serializers.ChoiceField(choices=["applied", "merged", "conflict", "rejected"])
    record = AnyRecordField(
        required=False,
        allow_null=True,
        help_text="The record of the entity the mutation named, as it now is (null when "
        "it left your scope since).",
    )
    conflicts = MutationConflictSerializer(many=True, required=False)
    errors = serializers.DictField(
        required=False,
        help_text='Why it was rejected: `{"<field>": ["message"]}`, or `{"detail": "not '
        'found"}` for a record outside your scope.',
    )
    replayed = serializers.BooleanField(
        required=False,
        help_text="Present and true when this mutation id was answered before (in an "
        "earlier push or earlier in this one): the first answer, given again; nothing was "
        "applied now.",
    )
    code = serializers.CharField(
        required=False,
        help_text="On some rejections: the rule that refused the mutation "
        "(e.g. survey_approved, opening_hours_denied, task_transition).",
    )


class PushResponseSerializer(serializers.Serializer):
    results = MutationResultSerializer(many=True)


class PullProgressSerializer(serializers.Serializer):
    tier = serializers.IntegerField(help_text="0: today's work (first sync); 1: the rest.")
    tier_complete = serializers.BooleanField()
    received = serializers.IntegerField(help_text="Changes sent so far in this walk.")
    estimated_total = serializers.IntegerField(help_text="Changes the walk will carry.")


class PullResponseSerializer(serializers.Serializer):
    changes = serializers.ListField(
        child=PullChangeField(), help_text="Oldest first; apply them in order."
    )
    cursor = serializers.CharField(help_text="Send it as `cursor` for the next page.")
    has_more = serializers.BooleanField(help_text="True: pull again with `cursor` now.")
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

    # Each mutation's values are checked on their own (sync.push.parse_mutation).
    parser_classes = [EnvelopeJSONParser]

    @extend_schema(
        request=PushRequestSerializer,
        responses={
            200: PushResponseSerializer,
            400: FIELD_ERRORS,
            401: UNAUTHORIZED,
            413: TOO_LARGE,
            415: UNSUPPORTED,
            426: UPGRADE,
            503: UNAVAILABLE,
        },
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
        parameters=pull_parameters(),
        responses={
            200: PullResponseSerializer,
            400: FIELD_ERRORS,
            401: UNAUTHORIZED,
            410: RESYNC,
            413: TOO_LARGE,
            415: UNSUPPORTED,
            426: UPGRADE,
            503: UNAVAILABLE,
        },
    )
    def get(self, request: Request) -> HttpResponse:
        refuse_unknown_query_params(request, self)
        limits = settings.FIELDLINE
        raw_limit = request.query_params.get("limit", str(limits["SYNC_PULL_DEFAULT_LIMIT"]))
        try:
            limit = parse_count(raw_limit, max_value=limits["SYNC_PULL_MAX_LIMIT"])
        except ValueError:
            limit = 0
        if limit < 1:
            raise ValidationError(
                {"limit": [f"An integer from 1 to {limits['SYNC_PULL_MAX_LIMIT']}."]}
            )
        try:
            read = ReplicaRead()
            # On a replica that has what this phone knows; if it turns out to be behind
            # the cursor (a 410 there may only mean that), the primary answers.
            page = read_on_replica(
                lambda: pull_page(
                    user=request.user,
                    cursor_text=request.query_params.get("cursor") or None,
                    limit=limit,
                ),
                reader=request.user.pk,
                retry_on_primary=(CursorExpired,),
                outcome=read,
            )
        except CursorInvalid as error:
            raise ValidationError({"cursor": [str(error)]}) from error
        except CursorExpired:
            gone = json_response({"detail": "resync"}, status.HTTP_410_GONE)
            gone[READ_FROM_HEADER] = read.alias
            return gone
        # Read by the device headers middleware: how far this device has come.
        request._request.sync_cursor_position = page.position
        response = json_response(
            {
                "changes": page.changes,
                "cursor": page.cursor,
                "has_more": page.has_more,
                "progress": page.progress,
            }
        )
        response[READ_FROM_HEADER] = read.alias
        return response


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
