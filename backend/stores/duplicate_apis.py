"""Duplicate stores: find them (GET /api/stores/duplicates), merge two (POST /api/stores/merge)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsOffice
from stores.selectors import duplicate_nearby_pairs, duplicate_phone_groups
from stores.services import MergeError, MergeRefused, stores_merge


class DuplicateStoreSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    phone = serializers.CharField()
    address = serializers.CharField()
    lat = serializers.FloatField()
    lon = serializers.FloatField()
    region = serializers.CharField(source="region_id")
    owner = serializers.IntegerField(source="owner_id", allow_null=True)
    created_at = serializers.DateTimeField()


class PhoneDuplicatesSerializer(serializers.Serializer):
    phone = serializers.CharField()
    stores = DuplicateStoreSerializer(many=True)


class NearbyDuplicateSerializer(serializers.Serializer):
    stores = serializers.SerializerMethodField()
    distance_m = serializers.FloatField()
    name_similarity = serializers.FloatField()

    @extend_schema(responses=DuplicateStoreSerializer(many=True))
    def get_stores(self, pair) -> list[dict]:
        return DuplicateStoreSerializer([pair.first, pair.second], many=True).data

    def to_representation(self, instance):
        body = super().to_representation(instance)
        body["distance_m"] = round(body["distance_m"], 2)
        body["name_similarity"] = round(body["name_similarity"], 3)
        return body


class StoreDuplicatesSerializer(serializers.Serializer):
    by_phone = PhoneDuplicatesSerializer(many=True)
    nearby = NearbyDuplicateSerializer(many=True)


class StoreMergeRequestSerializer(serializers.Serializer):
    winner = serializers.UUIDField()
    loser = serializers.UUIDField()


class StoreMergeResponseSerializer(serializers.Serializer):
    winner = serializers.UUIDField(source="winner_id")
    loser = serializers.UUIDField(source="loser_id")
    moved = serializers.DictField(child=serializers.IntegerField())


class StoreDuplicatesApi(APIView):
    """Live stores that look like one shop entered twice: the same phone number, or
    within 30 m with alike names. A manager sees their region, HQ all."""

    permission_classes = [IsOffice]

    @extend_schema(responses={200: StoreDuplicatesSerializer})
    def get(self, request: Request) -> Response:
        body = {
            "by_phone": duplicate_phone_groups(actor=request.user),
            "nearby": duplicate_nearby_pairs(actor=request.user),
        }
        return Response(StoreDuplicatesSerializer(body).data)


class StoreMergeApi(APIView):
    """Merge `loser` into `winner`: its surveys, visits, follow-ups and tasks move to the
    winner, and the loser is deleted with `merged_into` naming the winner."""

    permission_classes = [IsOffice]

    @extend_schema(
        request=StoreMergeRequestSerializer, responses={200: StoreMergeResponseSerializer}
    )
    def post(self, request: Request) -> Response:
        payload = StoreMergeRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            outcome = stores_merge(
                actor=request.user,
                winner_id=payload.validated_data["winner"],
                loser_id=payload.validated_data["loser"],
            )
        except MergeRefused as error:
            if error.code == MergeError.NOT_FOUND:
                raise NotFound() from error
            detail = {"detail": error.detail, "code": str(error.code)}
            if error.errors:
                detail["records"] = error.errors
            raise ValidationError(detail) from error
        return Response(StoreMergeResponseSerializer(outcome).data, status=status.HTTP_200_OK)
