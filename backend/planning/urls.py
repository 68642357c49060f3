from django.urls import path

from planning.apis import PlanComplianceApi, PlanGenerateApi, PlanOverloadsApi, PlanRulesApi

urlpatterns = [
    path("plans/rules", PlanRulesApi.as_view(), name="plan-rules"),
    path("plans/generate", PlanGenerateApi.as_view(), name="plan-generate"),
    path("plans/overloads", PlanOverloadsApi.as_view(), name="plan-overloads"),
    path("plans/compliance", PlanComplianceApi.as_view(), name="plan-compliance"),
]
