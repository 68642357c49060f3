from django.urls import path

from crm.calls.apis import (
    CallClaimApi,
    CallClaimNextApi,
    CallCompleteApi,
    CallListApi,
    CallReleaseApi,
    CallSlaApi,
)

urlpatterns = [
    path("calls/", CallListApi.as_view(), name="calls"),
    path("calls/claim-next", CallClaimNextApi.as_view(), name="calls-claim-next"),
    path("calls/sla", CallSlaApi.as_view(), name="calls-sla"),
    path("calls/<uuid:pk>/claim", CallClaimApi.as_view(), name="call-claim"),
    path("calls/<uuid:pk>/complete", CallCompleteApi.as_view(), name="call-complete"),
    path("calls/<uuid:pk>/release", CallReleaseApi.as_view(), name="call-release"),
]
