from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from rest_framework.routers import DefaultRouter

from accounts.apis import LogoutApi, MeApi, TokenApi
from fieldline.api_docs import DocsView, SchemaView
from fieldline.views import landing
from photos.apis import PhotoViewSet
from stores.apis import StoreDuplicatesApi, StoreMergeApi, StoresNearbyApi, StoreViewSet
from surveys.apis import SurveyViewSet
from sync.urls import audit_urlpatterns
from tasks.apis import DispatchApi, DispatchCancelApi, DispatchListApi, TaskViewSet
from tasks.day_apis import MyDayApi
from visits.apis import FollowUpViewSet, VisitViewSet
from visits.reminder_apis import ReminderListApi

router = DefaultRouter()
router.include_root_view = False
router.register("stores", StoreViewSet, basename="store")
router.register("surveys", SurveyViewSet, basename="survey")
router.register("visits", VisitViewSet, basename="visit")
router.register("tasks", TaskViewSet, basename="task")
router.register("photos", PhotoViewSet, basename="photo")
router.register("followups", FollowUpViewSet, basename="followup")


def health(request):
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("api/health", health, name="health"),
    path("api/auth/token", TokenApi.as_view(), name="auth-token"),
    path("api/auth/logout", LogoutApi.as_view(), name="auth-logout"),
    path("api/me", MeApi.as_view(), name="me"),
    path("api/me/reminders", ReminderListApi.as_view(), name="me-reminders"),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    path("api/docs/", DocsView.as_view(url_name="schema"), name="docs"),
    path("api/sync/", include("sync.urls")),
    path("api/", include(audit_urlpatterns)),
    path("api/tasks/dispatch", DispatchApi.as_view(), name="task-dispatch"),
    path("api/tasks/dispatches/", DispatchListApi.as_view(), name="task-dispatches"),
    path(
        "api/tasks/dispatches/<uuid:pk>/cancel",
        DispatchCancelApi.as_view(),
        name="task-dispatch-cancel",
    ),
    path("api/stores/nearby", StoresNearbyApi.as_view(), name="stores-nearby"),
    path("api/stores/duplicates", StoreDuplicatesApi.as_view(), name="stores-duplicates"),
    path("api/stores/merge", StoreMergeApi.as_view(), name="stores-merge"),
    path("api/", include("photos.urls")),
    path("api/me/day", MyDayApi.as_view(), name="me-day"),
    path("api/", include("planning.urls")),
    path("api/", include("crm.urls")),
    path("api/", include("surveys.urls")),
    path("api/", include("reports.urls")),
    path("api/", include(router.urls)),
    path("admin/", admin.site.urls),
    path("hq/", include("hq.urls")),
    # The HQ pages' language menu posts to set_language here.
    path("i18n/", include("django.conf.urls.i18n")),
    path("app/", include("fieldapp.urls")),
    path("", landing, name="landing"),
]

handler400 = "fieldline.errors.bad_request"
handler403 = "fieldline.errors.permission_denied"
handler404 = "fieldline.errors.page_not_found"
handler500 = "fieldline.errors.server_error"
