"""GET /api/sync/devices: every device's sync health, in the caller's scope."""

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from fieldline.pagination import PageNumberPagination
from sync.device_selectors import device_health, device_list, stale_filter
from sync.models import Device


class DeviceHealthSerializer(serializers.Serializer):
    device_id = serializers.CharField()
    user = serializers.IntegerField()
    username = serializers.CharField()
    app_version = serializers.CharField(help_text="Empty when the app never said.")
    first_seen = serializers.DateTimeField()
    last_seen = serializers.DateTimeField()
    last_push_at = serializers.DateTimeField(
        allow_null=True, help_text="The last push answered 200."
    )
    last_pull_at = serializers.DateTimeField(
        allow_null=True, help_text="The last pull answered 200."
    )
    behind = serializers.IntegerField(
        help_text="Changes in the user's scope between the device's cursor and the head."
    )
    pending_mutations = serializers.IntegerField(
        allow_null=True, help_text="The outbox size the phone last reported."
    )
    rejected_7d = serializers.IntegerField()
    conflicts_7d = serializers.IntegerField()
    last_error = serializers.CharField(help_text="Status and detail of the last refused request.")
    last_error_at = serializers.DateTimeField(allow_null=True)
    stale = serializers.BooleanField(
        help_text="Changes waiting and no successful push for more than 24 hours."
    )


class DevicePagination(PageNumberPagination):
    """Each device on a page costs a count of its backlog: smaller pages."""

    page_size = 50
    max_page_size = 200


class DeviceListApi(generics.ListAPIView):
    """Sync health per device: reps see their own, managers their region's, HQ all.
    Devices with changes waiting longest without a successful push come first."""

    serializer_class = DeviceHealthSerializer
    pagination_class = DevicePagination
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Device.objects.none()
        devices = device_list(actor=self.request.user)
        stale = self.request.query_params.get("stale")
        if stale not in (None, "true", "false"):
            raise ValidationError({"stale": ["true or false."]})
        if stale is not None:
            condition = stale_filter(now=timezone.now())
            devices = devices.filter(condition) if stale == "true" else devices.exclude(condition)
        return devices

    @extend_schema(parameters=[OpenApiParameter("stale", bool, required=False)])
    def get(self, request: Request, *args, **kwargs) -> Response:
        devices = self.get_queryset()
        page = self.paginate_queryset(devices)
        health = device_health(
            devices=devices.filter(pk__in=[device.pk for device in page]), now=timezone.now()
        )
        return self.get_paginated_response(DeviceHealthSerializer(health, many=True).data)
