from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.generics import ListAPIView, ListCreateAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsHQ, IsOffice
from surveys.filters import SurveyFilter, SurveyTemplateFilter
from surveys.models import SurveyReview, SurveyTemplate
from surveys.selectors import survey_completeness, survey_list, templates_in_force
from surveys.serializers import (
    SurveyCompletenessSerializer,
    SurveyReviewInputSerializer,
    SurveyReviewSerializer,
    SurveyTemplateInputSerializer,
    SurveyTemplateSerializer,
    SurveyWireSerializer,
)
from surveys.services import ReviewInvalid, ReviewRefused, survey_review, survey_template_create
from sync.rest import SyncableViewSet


class SurveyViewSet(SyncableViewSet):
    entity = "survey"
    serializer_class = SurveyWireSerializer
    filterset_class = SurveyFilter


class SurveyTemplateListApi(ListCreateAPIView):
    """Survey templates, newest version first per trade-area type (HQ). Creating one adds
    the next version of its type; existing versions never change."""

    permission_classes = [IsAuthenticated, IsHQ]
    serializer_class = SurveyTemplateSerializer
    filterset_class = SurveyTemplateFilter
    queryset = SurveyTemplate.objects.order_by("trade_area_type", "-version")

    @extend_schema(request=SurveyTemplateInputSerializer, responses={201: SurveyTemplateSerializer})
    def post(self, request: Request) -> Response:
        payload = SurveyTemplateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        template = survey_template_create(actor=request.user, **payload.validated_data)
        return Response(SurveyTemplateSerializer(template).data, status=status.HTTP_201_CREATED)


class SurveyTemplatesInForceApi(APIView):
    """The template in force for each trade-area type, for every signed-in user: phones
    render the survey form from it and show the completeness score as the rep fills it."""

    @extend_schema(responses={200: SurveyTemplateSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return Response(SurveyTemplateSerializer(templates_in_force(), many=True).data)


class SurveyCompletenessApi(APIView):
    """One survey's completeness against the template version it was captured with."""

    @extend_schema(responses={200: SurveyCompletenessSerializer})
    def get(self, request: Request, pk) -> Response:
        survey = get_object_or_404(survey_list(actor=request.user), pk=pk)
        return Response(SurveyCompletenessSerializer(survey_completeness(survey=survey)).data)


class SurveyReviewApi(APIView):
    """Approve a survey, or send it back (has_issues, rejected) with reasons and a comment:
    the store's owner gets a `review_fix` task. Sending back needs at least one reason
    (per field, or `general` for the whole survey); the reason `other` needs a comment."""

    permission_classes = [IsAuthenticated, IsOffice]

    @extend_schema(request=SurveyReviewInputSerializer, responses={201: SurveyReviewSerializer})
    def post(self, request: Request, pk) -> Response:
        survey = get_object_or_404(survey_list(actor=request.user), pk=pk)
        payload = SurveyReviewInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            review = survey_review(actor=request.user, survey=survey, **payload.validated_data)
        except ReviewInvalid as error:
            raise ValidationError(error.errors) from error
        except ReviewRefused as error:
            if error.reason == "not_found":
                raise Http404 from error
            if error.reason == "forbidden":
                raise PermissionDenied(error.errors) from error
            raise ValidationError(error.errors) from error
        return Response(SurveyReviewSerializer(review).data, status=status.HTTP_201_CREATED)


class SurveyReviewListApi(ListAPIView):
    """Every review action on a survey, oldest first."""

    serializer_class = SurveyReviewSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SurveyReview.objects.none()
        survey = get_object_or_404(survey_list(actor=self.request.user), pk=self.kwargs["pk"])
        return SurveyReview.objects.filter(survey=survey).order_by("created_at", "pk")
