"""Survey actions beside the router's resources; included before the router's routes."""

from django.urls import path

from surveys.apis import (
    SurveyCompletenessApi,
    SurveyReviewApi,
    SurveyReviewListApi,
    SurveyTemplateListApi,
    SurveyTemplatesInForceApi,
)

urlpatterns = [
    path("survey-templates/", SurveyTemplateListApi.as_view(), name="survey-templates"),
    path(
        "survey-templates/current",
        SurveyTemplatesInForceApi.as_view(),
        name="survey-templates-current",
    ),
    path(
        "surveys/<uuid:pk>/completeness",
        SurveyCompletenessApi.as_view(),
        name="survey-completeness",
    ),
    path("surveys/<uuid:pk>/review", SurveyReviewApi.as_view(), name="survey-review"),
    path("surveys/<uuid:pk>/reviews", SurveyReviewListApi.as_view(), name="survey-reviews"),
]
