"""The `crm` app's routes: each sub-domain package brings its own, under `/api/`."""

from django.urls import include, path

urlpatterns = [
    path("", include("crm.orders.urls")),
    path("", include("crm.analytics.urls")),
    path("", include("crm.subsidies.urls")),
    path("", include("crm.calls.urls")),
]
