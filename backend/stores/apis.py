"""HTTP for stores: the syncable resource, the stores around a point
(GET /api/stores/nearby), duplicates (GET /api/stores/duplicates) and merging two
(POST /api/stores/merge)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsOffice
from fieldline.conf import fieldline_settings
from fieldline.query_params import refuse_unknown_query_params
from stores.filters import StoreFilter
from stores.selectors import Near, duplicate_nearby_pairs, duplicate_phone_groups, stores_nearby
from stores.serializers import (
    DuplicatesPageSerializer,
    NearbyStoreSerializer,
    StoreDuplicatesSerializer,
    StoreMergeRequestSerializer,
    StoreMergeResponseSerializer,
    StoresNearbyQuerySerializer,
    StoreWireSerializer,
)
from stores.services import (
    MergeError,
    MergeRefused,
    OpeningHoursRefused,
    opening_hours_confirm,
    stores_merge,
)
from sync.rest import Conflict, SyncableViewSet


@extend_schema_view(
    list=extend_schema(summary="Stores in your scope"),
    create=extend_schema(summary="Create a store (reps: a prospect they own)"),
)
class StoreViewSet(SyncableViewSet):
    entity = "store"
    serializer_class = StoreWireSerializer
    filterset_class = StoreFilter

    @extend_schema(
        summary="Confirm the opening hours a rep proposed (managers and HQ)",
        request=None,
        responses={200: StoreWireSerializer},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="opening-hours/confirm",
        permission_classes=[IsOffice],
    )
    def confirm_opening_hours(self, request: Request, pk: str | None = None) -> Response:
        """`opening_hours_proposed` becomes `opening_hours` (what visits are judged by) and
        the proposal is cleared. To turn a proposal down, set `opening_hours_proposed` to
        `{}`; to amend it, set `opening_hours` yourself."""
        record = self.get_object()
        try:
            body = opening_hours_confirm(actor=request.user, store_id=record.pk)
        except OpeningHoursRefused as error:
            detail = {"detail": error.detail}
            if error.errors:
                detail["errors"] = error.errors
            raise Conflict(detail) from error
        return Response(body)


class StoresNearbyApi(APIView):
    @extend_schema(
        parameters=[StoresNearbyQuerySerializer],
        responses={200: NearbyStoreSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        refuse_unknown_query_params(request, self)
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


class StoreDuplicatesApi(APIView):
    """Live stores that look like one shop entered twice: the same phone number, or
    within 30 m with alike names. A manager sees their region, HQ all.

    Paginated: `page` (from 1) and `page_size` (at most DUPLICATES_MAX_PAGE_SIZE) take the
    same page of both lists; `count_by_phone` and `count_nearby` say how many there are,
    `next` is the address of the following page while either list has more."""

    permission_classes = [IsOffice]

    @extend_schema(
        parameters=[
            OpenApiParameter("page", int, required=False),
            OpenApiParameter("page_size", int, required=False),
        ],
        responses={200: StoreDuplicatesSerializer, 400: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        options = fieldline_settings
        query = DuplicatesPageSerializer(
            data=request.query_params,
            context={"max_page_size": options.DUPLICATES_MAX_PAGE_SIZE},
        )
        query.is_valid(raise_exception=True)
        page = query.validated_data.get("page", 1)
        size = query.validated_data.get("page_size", options.DUPLICATES_PAGE_SIZE)
        by_phone = duplicate_phone_groups(actor=request.user)
        nearby = duplicate_nearby_pairs(actor=request.user)
        start, end = (page - 1) * size, page * size
        more = end < len(by_phone) or end < len(nearby)
        body = {
            "count_by_phone": len(by_phone),
            "count_nearby": len(nearby),
            "next": request.build_absolute_uri(f"{request.path}?page={page + 1}&page_size={size}")
            if more
            else None,
            "by_phone": by_phone[start:end],
            "nearby": nearby[start:end],
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
