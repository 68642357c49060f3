"""GET /api/me/day: the caller's tasks for today, in route order from where they are (the
visits their plan set for today first)."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fieldline.replicas import replica_view
from geo.point import Point
from stores.serializers import PositionQuerySerializer
from tasks.selectors import day_plan


class MyDayQuerySerializer(PositionQuerySerializer):
    """Where the rep stands: the route starts there."""


class DayStoreSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    address = serializers.CharField()
    lat = serializers.FloatField()
    lon = serializers.FloatField()


class DayTaskSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()
    priority = serializers.IntegerField()
    due_date = serializers.DateField(allow_null=True)
    plan = serializers.UUIDField(
        allow_null=True, help_text="Set for a visit a plan set: those of today come first."
    )


class DayStopSerializer(serializers.Serializer):
    task = DayTaskSerializer()
    store = DayStoreSerializer(source="task.store")
    leg_m = serializers.FloatField(help_text="From the previous stop (the first: from start).")


class DayPlanSerializer(serializers.Serializer):
    date = serializers.DateField()
    start = serializers.DictField(child=serializers.FloatField())
    stops = DayStopSerializer(many=True)
    total_m = serializers.FloatField()


class MyDayApi(APIView):
    @extend_schema(parameters=[MyDayQuerySerializer], responses={200: DayPlanSerializer})
    @replica_view
    def get(self, request: Request) -> Response:
        query = MyDayQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        start = Point(lat=query.validated_data["lat"], lon=query.validated_data["lon"])
        today = timezone.localdate()
        plan = day_plan(actor=request.user, start=start, today=today)
        body = {
            "date": today,
            "start": {"lat": start.lat, "lon": start.lon},
            "stops": plan.stops,
            "total_m": plan.total_m,
        }
        return Response(DayPlanSerializer(body).data)
