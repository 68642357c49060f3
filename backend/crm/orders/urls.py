from django.urls import path

from crm.orders.apis import (
    OrderImportJobApi,
    OrderImportJobListApi,
    OrdersImportApi,
)

urlpatterns = [
    path("imports/orders", OrdersImportApi.as_view(), name="orders-import"),
    path("imports/orders/jobs", OrderImportJobListApi.as_view(), name="orders-import-jobs"),
    path("imports/orders/jobs/<uuid:pk>", OrderImportJobApi.as_view(), name="orders-import-job"),
]
