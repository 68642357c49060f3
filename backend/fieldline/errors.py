"""API errors: DRF's shapes, plus a JSON answer for what Django itself refuses."""

from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from rest_framework import status
from rest_framework.views import exception_handler as drf_exception_handler

from fieldline.conf import fieldline_settings


def exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):
        return JsonResponse(
            {"detail": "Request body is too large."},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, OperationalError | InterfaceError):
        # The database went away mid-request (connection killed, failover, restart). The
        # transaction was rolled back, so nothing of the request is applied: say so, and
        # when to retry, instead of a 500.
        response = JsonResponse(
            {"detail": "The database is unavailable; nothing was applied. Retry later."},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
        response["Retry-After"] = str(fieldline_settings.RETRY_AFTER_S)
        return response
    return drf_exception_handler(exc, context)
