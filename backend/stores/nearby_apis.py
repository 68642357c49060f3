"""GET /api/stores/nearby: the caller's stores around a point, nearest first."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from stores.selectors import Near, stores_nearby
from stores.serializers import PositionQuerySerializer, QueryFloatField

MAX_RADIUS_M = 50_000


class StoresNearbyQuerySerializer(PositionQuerySerializer):
    radius_m = QueryFloatField(min_value=1.0, max_value=MAX_RADIUS_M, default=1000.0)
    limit = serializers.IntegerField(min_value=1, max_value=500, default=100)


class NearbyStoreSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    address = serializers.CharField()
    lat = serializers.FloatField()
    lon = serializers.FloatField()
    trade_area_type = serializers.CharField()
    status = serializers.CharField()
    distance_m = serializers.FloatField()


class StoresNearbyApi(APIView):
    @extend_schema(
        parameters=[StoresNearbyQuerySerializer],
        responses={200: NearbyStoreSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        query = StoresNearbyQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        stores = stores_nearby(
            actor=request.user,
            near=Near(lat=params["lat"], lon=params["lon"], radius_m=params["radius_m"]),
            limit=params["limit"],
        )
        for store in stores:
            store.distance_m = round(store.distance_m, 2)
        return Response(NearbyStoreSerializer(stores, many=True).data)
