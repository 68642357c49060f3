"""The rep's offline web app under /app/: its shell, service worker, manifest and files."""

from django.urls import path, re_path

from fieldapp import views

app_name = "fieldapp"

urlpatterns = [
    path("", views.app_shell, name="shell"),
    path("sw.js", views.service_worker, name="service-worker"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("config.json", views.app_config, name="config"),
    re_path(
        r"^(?P<name>[a-z0-9_\-/]+\.(?:js|css|png|svg|txt|json))$", views.app_file_view, name="file"
    ),
]
