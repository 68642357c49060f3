"""HTTP for the call center: office users (managers for their region, HQ for all) list,
claim and complete calls. Parse, call a service or selector, render."""

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsOffice
from crm.calls.models import Call, CallOutcome, CallQueue, CallStatus
from crm.calls.selectors import call_list, call_sla
from crm.calls.services import (
    CallConflict,
    CallInvalid,
    CallNotFound,
    call_claim,
    call_claim_next,
    call_complete,
    call_release,
)
from fieldline.pagination import PageNumberPagination
from fieldline.query_params import refuse_unknown_query_params


class CallSerializer(serializers.ModelSerializer):
    store_name = serializers.CharField(source="store.name", read_only=True)
    store_phone = serializers.CharField(source="store.phone", read_only=True)
    region = serializers.CharField(source="store.region_id", read_only=True)
    owner = serializers.IntegerField(source="store.owner_id", read_only=True, allow_null=True)
    overdue = serializers.SerializerMethodField()
    # Declared, so that the schema does not carry the database's integer range.
    callback_day = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="New-customer callbacks: day after the first order.",
    )

    class Meta:
        model = Call
        fields = [
            "id",
            "queue",
            "store",
            "store_name",
            "store_phone",
            "region",
            "owner",
            "reason",
            "created_at",
            "due_at",
            "overdue",
            "status",
            "claimed_by",
            "claimed_at",
            "completed_at",
            "outcome",
            "notes",
            "next_contact_on",
            "followup_id",
            "callback_day",
        ]

    def get_overdue(self, call: Call) -> bool:
        """Open or claimed past its SLA deadline."""
        return (
            call.status in (CallStatus.OPEN, CallStatus.CLAIMED)
            and call.due_at < self.context["now"]
        )


class CallConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.ChoiceField(
        choices=["claimed_by_other", "call_open", "call_done", "call_expired"]
    )


class CallQuerySerializer(serializers.Serializer):
    queue = serializers.ChoiceField(choices=CallQueue.choices, required=False)
    status = serializers.ChoiceField(choices=CallStatus.choices, required=False)
    overdue = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="Only past (or within) SLA."
    )


def _conflict(error: CallConflict) -> Response:
    return Response({"detail": error.message, "code": error.code}, status=status.HTTP_409_CONFLICT)


class CallListApi(APIView):
    """Calls of your region's stores (HQ: all), the earliest SLA deadline first."""

    permission_classes = [IsAuthenticated, IsOffice]
    pagination_class = PageNumberPagination

    @extend_schema(parameters=[CallQuerySerializer], responses={200: CallSerializer(many=True)})
    def get(self, request: Request) -> Response:
        query = CallQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        now = timezone.now()
        calls = call_list(actor=request.user, now=now, **query.validated_data)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(calls, request, view=self)
        data = CallSerializer(page, many=True, context={"now": now}).data
        return paginator.get_paginated_response(data)


class CallClaimNextInputSerializer(serializers.Serializer):
    queue = serializers.ChoiceField(choices=CallQueue.choices)


class CallClaimNextApi(APIView):
    """Claim the open call of a queue with the earliest deadline; 404 when none waits.
    Agents claiming at once each get a different call."""

    permission_classes = [IsAuthenticated, IsOffice]

    @extend_schema(
        request=CallClaimNextInputSerializer,
        responses={200: CallSerializer, 404: OpenApiResponse(description="No open call.")},
    )
    def post(self, request: Request) -> Response:
        payload = CallClaimNextInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        call = call_claim_next(actor=request.user, queue=payload.validated_data["queue"])
        if call is None:
            raise NotFound("No open call waits in this queue.")
        return Response(CallSerializer(call, context={"now": timezone.now()}).data)


class CallClaimApi(APIView):
    """Claim one call; 409 when another agent holds it or it is done or expired."""

    permission_classes = [IsAuthenticated, IsOffice]

    @extend_schema(request=None, responses={200: CallSerializer, 409: CallConflictSerializer})
    def post(self, request: Request, pk) -> Response:
        try:
            call = call_claim(actor=request.user, call_id=pk)
        except CallNotFound as error:
            raise NotFound from error
        except CallConflict as error:
            return _conflict(error)
        return Response(CallSerializer(call, context={"now": timezone.now()}).data)


class CallReleaseApi(APIView):
    """Give a claimed call back to its queue (the agent holding it, the region's manager or
    HQ); 409 when it is not claimed. Claims not completed within
    FIELDLINE["CALL_CLAIM_TIMEOUT_HOURS"] are given back by the periodic queue fill."""

    permission_classes = [IsAuthenticated, IsOffice]

    @extend_schema(request=None, responses={200: CallSerializer, 409: CallConflictSerializer})
    def post(self, request: Request, pk) -> Response:
        try:
            call = call_release(actor=request.user, call_id=pk)
        except CallNotFound as error:
            raise NotFound from error
        except CallConflict as error:
            return _conflict(error)
        call = Call.objects.select_related("store").get(pk=call.pk)
        return Response(CallSerializer(call, context={"now": timezone.now()}).data)


class CallCompleteInputSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(
        choices=CallOutcome.choices,
        help_text="What each outcome does besides closing the call: `wrong_number` marks the "
        "store's phone unverified (`phone_verified` false, synced to the rep) and keeps it out "
        "of every call queue until someone corrects the number; `store_closed` proposes the "
        "store to its manager for closing (`closing_proposed_at`, listed by "
        "`GET /api/stores/?closing_proposed=true`) and keeps it out of the queues until the "
        "manager decides; `reached_no_interest` pauses the store's reactivation calls for "
        'FIELDLINE["CALL_NOT_INTERESTED_PAUSE_DAYS"] (90) days; `callback_requested` needs '
        "`next_contact_on`. Any outcome with `next_contact_on` leaves a follow-up for the "
        "store's rep.",
    )
    notes = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    next_contact_on = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Leaves a follow-up due that day for the store's rep; required for "
        "`callback_requested`.",
    )


class CallCompleteApi(APIView):
    """Record the outcome of a call you have claimed."""

    permission_classes = [IsAuthenticated, IsOffice]

    @extend_schema(
        request=CallCompleteInputSerializer,
        responses={200: CallSerializer, 409: CallConflictSerializer},
    )
    def post(self, request: Request, pk) -> Response:
        payload = CallCompleteInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            call = call_complete(actor=request.user, call_id=pk, **payload.validated_data)
        except CallNotFound as error:
            raise NotFound from error
        except CallConflict as error:
            return _conflict(error)
        except CallInvalid as error:
            raise ValidationError(error.errors) from error
        call = Call.objects.select_related("store").get(pk=call.pk)
        return Response(CallSerializer(call, context={"now": timezone.now()}).data)


class QueueSlaSerializer(serializers.Serializer):
    queue = serializers.ChoiceField(choices=CallQueue.choices)
    sla_hours = serializers.IntegerField()
    open = serializers.IntegerField()
    claimed = serializers.IntegerField()
    overdue = serializers.IntegerField(help_text="Open or claimed past the SLA deadline.")
    oldest_overdue_due_at = serializers.DateTimeField(allow_null=True)


class CallSlaApi(APIView):
    """Per queue: calls waiting, in work and past their SLA (FIELDLINE["CALL_SLA_HOURS"])."""

    permission_classes = [IsAuthenticated, IsOffice]

    @extend_schema(responses={200: QueueSlaSerializer(many=True)})
    def get(self, request: Request) -> Response:
        refuse_unknown_query_params(request, self)
        rows = call_sla(actor=request.user, now=timezone.now())
        return Response(QueueSlaSerializer(rows, many=True).data)
