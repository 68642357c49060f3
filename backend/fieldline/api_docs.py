"""The API's schema (/api/schema/) and Swagger UI (/api/docs/), behind a login in
production (FIELDLINE "API_DOCS_LOGIN_REQUIRED"): they list every endpoint and field, which
is a map for an attacker as much as for a developer. A signed-in user reaches them with a
token (`Authorization: Token <key>`) or an HQ session; a browser without either is sent to
the HQ login and back. The docs page loads its script from a URL of its own (no inline
script), so it runs under the site's Content-Security-Policy."""

from django.contrib.auth.views import redirect_to_login
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import BasePermission
from rest_framework.settings import api_settings

from fieldline.conf import fieldline_settings


class DocsAccess(BasePermission):
    def has_permission(self, request, view) -> bool:
        if not fieldline_settings.API_DOCS_LOGIN_REQUIRED:
            return True
        return bool(request.user and request.user.is_authenticated and request.user.is_active)


class DocsAccessMixin:
    permission_classes = [DocsAccess]

    def get_authenticators(self):
        classes = [*api_settings.DEFAULT_AUTHENTICATION_CLASSES, SessionAuthentication]
        return [auth() for auth in classes]


class SchemaView(DocsAccessMixin, SpectacularAPIView):
    pass


class DocsView(DocsAccessMixin, SpectacularSwaggerSplitView):
    template_name = "fieldline/swagger_ui.html"

    def handle_exception(self, exc):
        request = self.request
        wants_page = "text/html" in request.META.get("HTTP_ACCEPT", "")
        if isinstance(exc, NotAuthenticated) and wants_page and "script" not in request.GET:
            return redirect_to_login(request.get_full_path())
        return super().handle_exception(exc)
