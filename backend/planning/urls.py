from django.urls import path

from planning.apis import PlanGenerateApi, PlanRulesApi

urlpatterns = [
    path("plans/rules", PlanRulesApi.as_view(), name="plan-rules"),
    path("plans/generate", PlanGenerateApi.as_view(), name="plan-generate"),
]
