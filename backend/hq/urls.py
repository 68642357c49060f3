from django.contrib.auth import views as auth_views
from django.urls import path

from hq import device_views, dispatch_views, review_views, store_views, views
from hq.access import OfficeLoginForm

app_name = "hq"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="hq/login.html",
            authentication_form=OfficeLoginForm,
            redirect_authenticated_user=False,
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(next_page="hq:login"), name="logout"),
    path("stores/<uuid:pk>/", store_views.store_detail, name="store"),
    path("map/", views.store_map, name="map"),
    path("map/stores.json", views.store_map_data, name="map-data"),
    path("review/", views.review_list, name="review-queue"),
    path("review/<uuid:pk>/", views.review_submit, name="review-submit"),
    path("surveys/<uuid:pk>/", review_views.survey_page, name="survey"),
    path("photos/<uuid:pk>/thumbnail", review_views.photo_thumbnail, name="photo-thumbnail"),
    path("photos/<uuid:pk>/content", review_views.photo_content, name="photo-content"),
    path("dispatch/", views.dispatch, name="dispatch"),
    path("dispatch/<uuid:pk>/", dispatch_views.dispatch_detail, name="dispatch-detail"),
    path("dispatch/<uuid:pk>/cancel", dispatch_views.dispatch_cancel_view, name="dispatch-cancel"),
    path("analytics/", views.analytics, name="analytics"),
    path("plans/", views.plans, name="plans"),
    path("exports/", views.exports, name="exports"),
    path("exports/<uuid:pk>/", views.export_job, name="export-job"),
    path("exports/<uuid:pk>/status", views.export_job_status, name="export-job-status"),
    path("exports/<uuid:pk>/download", views.export_job_download, name="export-job-download"),
    path("devices/", device_views.devices, name="devices"),
]
