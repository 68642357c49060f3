"""API errors: DRF's shapes, plus a JSON answer for what Django itself refuses."""

from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader
from rest_framework import exceptions, status
from rest_framework.authentication import get_authorization_header
from rest_framework.views import exception_handler as drf_exception_handler

from fieldline.conf import fieldline_settings
from fieldline.inputs import bounded_messages

GET_A_TOKEN = 'get one with POST /api/auth/token {"username", "password"}'


def guidance(exc, request) -> str | None:
    """What to do about a refused request, for the errors whose stock message only says
    what went wrong. None keeps DRF's message (field errors, throttling, not found)."""
    if isinstance(exc, exceptions.NotAuthenticated):
        scheme = get_authorization_header(request).split()[:1] if request is not None else []
        if scheme:
            used = scheme[0].decode("latin-1")[:20]
            return (
                f"The {used!r} authorization scheme is not accepted: send "
                f"'Authorization: Token <key>' ({GET_A_TOKEN})."
            )
        return f"Sign in first: send 'Authorization: Token <key>' ({GET_A_TOKEN})."
    if isinstance(exc, exceptions.AuthenticationFailed):
        if str(exc.detail) == "User inactive or deleted.":
            return f"{exc.detail} This account is switched off: ask your manager to restore it."
        if str(exc.detail).startswith("Invalid token header"):
            return (
                f"{exc.detail} Send 'Authorization: Token <key>' with the key exactly as "
                "the token endpoint answered it."
            )
        return (
            f"{exc.detail} The token is unknown, expired or revoked: sign in again "
            f"({GET_A_TOKEN}) and send 'Authorization: Token <key>'."
        )
    if isinstance(exc, exceptions.MethodNotAllowed):
        return f"{exc.detail} See /api/docs/ for the methods this address takes."
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return f"{exc.detail} Send a JSON body with 'Content-Type: application/json'."
    if isinstance(exc, exceptions.NotAcceptable):
        return f"{exc.detail} This API answers JSON: send 'Accept: application/json'."
    if isinstance(exc, exceptions.PermissionDenied) and exc.detail == (
        exceptions.PermissionDenied.default_detail
    ):
        return (
            "Your role may not do this: it is for managers or HQ (or for the record's "
            "owner). Ask a manager, or sign in with an account that may."
        )
    return None


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
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.ValidationError):
        # A field message may repeat the value it refuses: bounded, never the raw value
        # in full (fieldline.inputs).
        response.data = bounded_messages(response.data)
    if response is not None and isinstance(response.data, dict) and "detail" in response.data:
        detail = guidance(exc, context.get("request"))
        if detail is not None:
            response.data["detail"] = detail
    return response


# Pages for what Django itself answers (an unknown URL, a refused or failed request):
# a person in a browser gets a page that says what happened and where to go; an API
# client gets JSON in the shape of every other API error. Wired as the root URLconf's
# handler400/403/404/500.
ERROR_PAGES = {
    400: (
        "Bad request",
        "The request could not be understood. Go back and try again; if it keeps "
        "happening, reload the page first.",
    ),
    403: (
        "Not allowed",
        "Your account may not open this page. Sign in as a manager or HQ user, or ask "
        "your administrator for access.",
    ),
    404: (
        "Page not found",
        "There is nothing at this address. It may have moved, or the link may be "
        "mistyped; start again from one of the pages below.",
    ),
    500: (
        "Something went wrong",
        "The server could not finish this request and nothing was changed. Try again in "
        "a moment; if it keeps happening, tell your administrator the time it happened.",
    ),
}
API_ERROR_DETAILS = {
    400: "Bad request: check the request's syntax and parameters against the API docs.",
    403: "You do not have permission to perform this action.",
    404: "Not found: no such API endpoint. The endpoints are listed at /api/docs/.",
    500: "Internal error; nothing was applied. Retry later, or report the time it happened.",
}
ERROR_PAGE_LINKS = [
    {"url": "/", "label": "Start page"},
    {"url": "/app/", "label": "Rep's app"},
    {"url": "/hq/", "label": "HQ pages"},
]


def error_answer(request, status: int):
    """The answer to a request Django refused or failed with this status."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": API_ERROR_DETAILS[status]}, status=status)
    title, message = ERROR_PAGES[status]
    context = {"title": title, "message": message, "status": status, "links": ERROR_PAGE_LINKS}
    # No request context: a 500 page must render even when what failed was a context
    # processor or the session.
    body = loader.get_template("errors/page.html").render(context)
    return HttpResponse(body, status=status, content_type="text/html; charset=utf-8")


def bad_request(request, exception=None):
    return error_answer(request, 400)


def permission_denied(request, exception=None):
    return error_answer(request, 403)


def page_not_found(request, exception=None):
    return error_answer(request, 404)


def server_error(request):
    return error_answer(request, 500)
