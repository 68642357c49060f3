"""The plan API: rules per region, generating a plan."""

import datetime as dt

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsOffice
from planning.selectors import overloaded_days, plan_compliance, rules_list
from planning.serializers import (
    ComplianceSerializer,
    DayOverloadListSerializer,
    PlanAnswerSerializer,
    PlanGenerateSerializer,
    PlanPeriodQuerySerializer,
    PlanRulesListSerializer,
    PlanRulesQuerySerializer,
    PlanRulesSerializer,
    compliance_wire,
)
from planning.services import (
    PlanError,
    PlanRefused,
    plan_generate,
    region_in_scope,
    rules_from_wire,
    rules_update,
)


def refused(error: PlanRefused) -> Response:
    if error.code == PlanError.NOT_FOUND:
        raise NotFound() from error
    code = status.HTTP_409_CONFLICT if error.code == PlanError.REQUEST_REUSED else 400
    return Response({"detail": error.detail, "code": str(error.code)}, status=code)


class PlanRulesApi(APIView):
    """Each region's plan rules (a manager's region, HQ's all); PUT replaces one region's.
    A region nobody set rules for answers the FIELDLINE defaults."""

    permission_classes = [IsAuthenticated, IsOffice]

    @extend_schema(parameters=[PlanRulesQuerySerializer], responses={200: PlanRulesListSerializer})
    def get(self, request: Request) -> Response:
        query = PlanRulesQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rules = rules_list(actor=request.user, region=query.validated_data.get("region"))
        return Response({"results": [r.wire() for r in rules]})

    @extend_schema(request=PlanRulesSerializer, responses={200: PlanRulesSerializer})
    def put(self, request: Request) -> Response:
        payload = PlanRulesSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            rules = rules_update(actor=request.user, rules=rules_from_wire(payload.validated_data))
        except PlanRefused as error:
            return refused(error)
        return Response(rules.wire())


class PlanGenerateApi(APIView):
    """Plan a region's visits for some weeks. With `dry_run` nothing is made: the answer
    says what the plan would be. Otherwise the visits become `visit` tasks (`due_date` =
    the day, `plan` = the plan's id); open visits of earlier plans in the period are
    cancelled, started and done ones kept."""

    permission_classes = [IsAuthenticated, IsOffice]

    @extend_schema(
        request=PlanGenerateSerializer,
        responses={
            200: PlanAnswerSerializer,
            201: PlanAnswerSerializer,
            409: OpenApiTypes.OBJECT,
        },
    )
    def post(self, request: Request) -> Response:
        payload = PlanGenerateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        try:
            outcome = plan_generate(
                actor=request.user,
                region=data["region"],
                start=data["start"],
                weeks=data["weeks"],
                dry_run=data["dry_run"],
                request_id=data.get("request_id"),
            )
        except PlanRefused as error:
            return refused(error)
        code = status.HTTP_200_OK if outcome.plan is None else status.HTTP_201_CREATED
        return Response(outcome.answer, status=code)


def period_query(request: Request, *, back_days: int, ahead_days: int):
    """(region, rep, from, to) of a period query: a manager's own region unless named,
    HQ names one; the period defaults around today."""
    query = PlanPeriodQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    data = query.validated_data
    region = data.get("region") or request.user.region_id
    if region is None:
        raise ValidationError({"region": ["Name the region (HQ sees every region)."]})
    if not region_in_scope(actor=request.user, region=region):
        raise NotFound()
    today = timezone.localdate()
    start = data.get("from") or today - dt.timedelta(days=back_days)
    end = data.get("to") or max(start, today) + dt.timedelta(days=ahead_days)
    return region, data.get("rep"), start, end


class PlanOverloadsApi(APIView):
    """Rep days whose planned visits no longer fit the working minutes (a store given to a
    rep mid-plan brings its visits along); by default from today four weeks on."""

    permission_classes = [IsAuthenticated, IsOffice]

    @extend_schema(
        parameters=[PlanPeriodQuerySerializer], responses={200: DayOverloadListSerializer}
    )
    def get(self, request: Request) -> Response:
        region, rep, start, end = period_query(request, back_days=0, ahead_days=27)
        days = overloaded_days(region=region, rep=rep, start=start, end=end)
        return Response(DayOverloadListSerializer({"results": days}).data)


class PlanComplianceApi(APIView):
    """How far the plan was kept: planned visits due in the period, done, and verified (a
    geofence-verified visit to the store on the planned day ±1), by rep, grade and week.
    By default the last four weeks up to today."""

    permission_classes = [IsAuthenticated, IsOffice]

    @extend_schema(parameters=[PlanPeriodQuerySerializer], responses={200: ComplianceSerializer})
    def get(self, request: Request) -> Response:
        region, rep, start, end = period_query(request, back_days=27, ahead_days=0)
        if "to" not in request.query_params:
            end = timezone.localdate()
        compliance = plan_compliance(region=region, rep=rep, start=start, end=end)
        return Response(ComplianceSerializer(compliance_wire(compliance)).data)
