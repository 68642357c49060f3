from django.urls import path

from planning.apis import PlanGenerateApi, PlanOverloadsApi, PlanRulesApi

urlpatterns = [
    path("plans/rules", PlanRulesApi.as_view(), name="plan-rules"),
    path("plans/generate", PlanGenerateApi.as_view(), name="plan-generate"),
    path("plans/overloads", PlanOverloadsApi.as_view(), name="plan-overloads"),
]
