from django.urls import path

from sync.apis import AuditLogApi, ConflictListApi, PullApi, PushApi
from sync.device_apis import DeviceListApi
from sync.watermelon_apis import WatermelonSyncApi

urlpatterns = [
    path("push", PushApi.as_view(), name="sync-push"),
    path("pull", PullApi.as_view(), name="sync-pull"),
    path("conflicts", ConflictListApi.as_view(), name="sync-conflicts"),
    path("watermelon", WatermelonSyncApi.as_view(), name="sync-watermelon"),
    path("devices", DeviceListApi.as_view(), name="sync-devices"),
]

# Served at /api/audit (outside the sync protocol's prefix): see fieldline/urls.py.
audit_urlpatterns = [
    path("audit", AuditLogApi.as_view(), name="audit-log"),
]
