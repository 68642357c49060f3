"""HTTP endpoints of WatermelonDB's sync protocol: parse, call `sync.watermelon`, answer."""

from django.http import HttpResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.views import APIView

from fieldline.conf import fieldline_settings
from fieldline.parsers import EnvelopeJSONParser
from fieldline.replicas import (
    READ_FROM_HEADER,
    ReplicaRead,
    read_on_replica,
    stream_from,
)
from sync.apis import json_response
from sync.openapi import RESYNC as RESYNC_RESPONSE
from sync.watermelon.parameters import (
    WatermelonInvalid,
    WatermelonResync,
    device_id_for,
    parse_last_pulled_at,
    parse_migration,
    parse_schema_version,
)
from sync.watermelon.pull import plan_pull, pull_stream
from sync.watermelon.push import WatermelonTooLarge, push_changes

RESYNC = {"detail": "resync"}


class AnyTypeJSONParser(EnvelopeJSONParser):
    """WatermelonDB's documented `pushChanges` posts JSON without a content type. Each
    row's values are checked on their own (sync.watermelon.push.parse_push)."""

    media_type = "*/*"


class WatermelonTableChangesSerializer(serializers.Serializer):
    created = serializers.ListField(child=serializers.DictField())
    updated = serializers.ListField(child=serializers.DictField())
    deleted = serializers.ListField(child=serializers.UUIDField())


class WatermelonPullResponseSerializer(serializers.Serializer):
    changes = serializers.DictField(
        child=WatermelonTableChangesSerializer(), help_text="By table: stores, surveys, ..."
    )
    timestamp = serializers.IntegerField(help_text="Send back as `last_pulled_at`.")
    experimentalStrategy = serializers.CharField(  # WatermelonDB's name
        required=False,
        help_text='"replacement" when the timestamp sent is not one this database issued '
        "(another database's, or one a restore lost): the changes are the whole scope, and "
        "the app drops local records not in them.",
    )


class WatermelonPushSerializer(serializers.Serializer):
    changes = serializers.DictField(child=WatermelonTableChangesSerializer())


class WatermelonConflictSerializer(serializers.Serializer):
    table = serializers.CharField()
    id = serializers.UUIDField()
    field = serializers.CharField()
    client_value = serializers.JSONField(allow_null=True)
    server_value = serializers.JSONField(allow_null=True)
    kept = serializers.CharField()


class WatermelonRefusalSerializer(serializers.Serializer):
    table = serializers.CharField()
    id = serializers.CharField()
    errors = serializers.DictField()
    code = serializers.CharField(required=False, help_text="The rule that refused it, if named.")


class WatermelonUnknownSerializer(serializers.Serializer):
    tables = serializers.ListField(
        child=serializers.CharField(), help_text="Tables of the push the server does not have."
    )
    columns = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="By table: columns the server does not have (their rows are refused).",
    )
    known_tables = serializers.ListField(
        child=serializers.CharField(), help_text="The tables the server has."
    )


class WatermelonPushResponseSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    conflicts = WatermelonConflictSerializer(many=True)
    unknown = WatermelonUnknownSerializer(
        required=False,
        help_text="Present when the push names tables or columns the server does not have. "
        "An unknown table with no rows is ignored (an app's local-only table) unless the "
        "push names no known table at all: then nothing is applied and the answer is 409.",
    )


class WatermelonPushRefusedSerializer(WatermelonPushResponseSerializer):
    detail = serializers.CharField()
    rejected = WatermelonRefusalSerializer(many=True)
    experimentalRejectedIds = serializers.DictField(  # WatermelonDB's name
        child=serializers.ListField(child=serializers.CharField())
    )


RESYNC_ANSWER = OpenApiResponse(
    response=RESYNC_RESPONSE.response,
    description="`last_pulled_at` is not one this database issued (another database's, or "
    "one a restore lost): pull first (the pull answers a replacement), then push again.",
)

DEVICE_ID = OpenApiParameter(
    "device_id",
    str,
    required=False,
    description="The phone's id (or header X-Device-Id); default watermelon-<user id>.",
)


class WatermelonSyncApi(APIView):
    """WatermelonDB's `pullChanges` (GET) and `pushChanges` (POST) over the sync engine."""

    parser_classes = [AnyTypeJSONParser]

    @extend_schema(
        operation_id="sync_watermelon_pull",
        description="Changes in your scope since `last_pulled_at` (`null`: everything), "
        "in WatermelonDB's shape, streamed.",
        parameters=[
            OpenApiParameter("last_pulled_at", str, required=False, description="or `null`"),
            OpenApiParameter("schema_version", int, required=False),
            OpenApiParameter("migration", str, required=False, description="JSON, or `null`"),
            DEVICE_ID,
        ],
        responses={200: WatermelonPullResponseSerializer, 400: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> HttpResponse:
        params = request.query_params
        try:
            parse_schema_version(params.get("schema_version"))
            last_pulled_at = parse_last_pulled_at(params.get("last_pulled_at"))
            migration = parse_migration(params.get("migration"))
            device_id = self.device_id(request)
            read = ReplicaRead()
            # The plan (its watermark) and the stream read from one replica, or the primary.
            plan = read_on_replica(
                lambda: plan_pull(
                    user=request.user,
                    last_pulled_at=last_pulled_at,
                    migration=migration,
                    device_id=device_id,
                ),
                reader=request.user.pk,
                outcome=read,
            )
        except WatermelonInvalid as error:
            return json_response(error.errors, status.HTTP_400_BAD_REQUEST)
        # Read by the device headers middleware: the phone has every change below it.
        request._request.sync_cursor_position = (plan.below, -1)
        response = StreamingHttpResponse(
            stream_from(read.alias, pull_stream(plan=plan)), content_type="application/json"
        )
        response["Cache-Control"] = "no-store"
        response[READ_FROM_HEADER] = read.alias
        return response

    @extend_schema(
        operation_id="sync_watermelon_push",
        description="Apply a WatermelonDB push, merged field by field against what this phone "
        "last pulled; 409 lists the records refused (the others are applied), and the "
        "tables and columns the server does not have (`unknown`).",
        parameters=[
            OpenApiParameter("last_pulled_at", str, required=True, description="or `null`"),
            DEVICE_ID,
        ],
        request=WatermelonPushSerializer,
        responses={
            200: WatermelonPushResponseSerializer,
            400: OpenApiTypes.OBJECT,
            409: WatermelonPushRefusedSerializer,
            410: RESYNC_ANSWER,
            413: OpenApiTypes.OBJECT,
        },
    )
    def post(self, request: Request) -> HttpResponse:
        raw_timestamp = request.query_params.get("last_pulled_at")
        try:
            if raw_timestamp is None:
                raise WatermelonInvalid({"last_pulled_at": ["Required (or `null`)."]})
            outcome = push_changes(
                actor=request.user,
                body=request.data,
                last_pulled_at=parse_last_pulled_at(raw_timestamp),
                device_id=self.device_id(request),
                chunk_size=fieldline_settings.SYNC_MAX_MUTATIONS,
                max_mutations=fieldline_settings.SYNC_MAX_MUTATIONS,
            )
        except WatermelonTooLarge as error:
            return json_response({"detail": str(error)}, status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        except WatermelonInvalid as error:
            return json_response(error.errors, status.HTTP_400_BAD_REQUEST)
        except WatermelonResync:
            return json_response(RESYNC, status.HTTP_410_GONE)
        code = status.HTTP_409_CONFLICT if outcome.refused_any else status.HTTP_200_OK
        return json_response(outcome.as_wire(), code)

    @staticmethod
    def device_id(request: Request) -> str:
        given = request.query_params.get("device_id") or request.headers.get("X-Device-Id")
        return device_id_for(user=request.user, given=given)
