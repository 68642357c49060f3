"""Refuse requests no view can read safely, before anything reads them."""

import io

from django.conf import settings
from django.http import JsonResponse

from fieldline.conf import fieldline_settings
from fieldline.inputs import header_problem, safe_label

# Bodies of these types are streamed by their views (photo bytes, CSV imports, forms):
# never read whole here.
STREAMED_TYPES = ("multipart/", "text/csv", "image/", "application/octet-stream")


def hold_body(request, body: bytes) -> None:
    """Hand `body` to the view as the request's body, already read within its path's
    limit: Django's own DATA_UPLOAD_MAX_MEMORY_SIZE check is not applied to it again."""
    request._body = body
    request._stream = io.BytesIO(body)
    request._read_started = False
    request.META["CONTENT_LENGTH"] = str(len(body))


class BodySizeLimitMiddleware:
    """One body limit per path: 413 for a body over DATA_UPLOAD_MAX_MEMORY_SIZE, except
    where a path has its own limit (photo bytes, imports, WatermelonDB pushes) by prefix in
    FIELDLINE["BODY_LIMITS"].

    The limit is checked on the declared Content-Length, and a body that is read whole
    (JSON) is read here, within the path's limit, and handed on as the request's body: so
    the path's limit is the one that holds, never Django's smaller default behind it
    (which made the documented 20 MB WatermelonDB limit 5 MiB in fact). Gzip bodies are
    inflated within the same limit (fieldline.compression).

    Also 401 for an Authorization header that is not ASCII: tokens are ASCII, and the token
    authentication decodes the header as UTF-8 and would fail with a 500 on other bytes."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"detail": "Invalid Content-Length."}, status=400)
        limit = self.limit_for(request.path)
        if length > limit:
            return self.too_large(limit)
        if not request.META.get("HTTP_AUTHORIZATION", "").isascii():
            detail = (
                "Invalid token header. Send 'Authorization: Token <key>' with the key exactly "
                "as the token endpoint answered it."
            )
            response = JsonResponse({"detail": detail}, status=401)
            response["WWW-Authenticate"] = "Token"
            return response
        if self.read_here(request, limit):
            body = request.read(limit + 1)
            if len(body) > limit:
                return self.too_large(limit)
            hold_body(request, body)
        return self.get_response(request)

    @staticmethod
    def too_large(limit: int) -> JsonResponse:
        return JsonResponse(
            {"detail": f"Request body is too large: at most {limit} bytes on this path."},
            status=413,
        )

    @staticmethod
    def read_here(request, limit: int) -> bool:
        """A body this path takes beyond Django's default limit, read whole by its view."""
        content_type = request.META.get("CONTENT_TYPE", "").lower()
        encoding = request.META.get("HTTP_CONTENT_ENCODING", "").strip().lower()
        return (
            limit > (settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0)
            and request.method in ("POST", "PUT", "PATCH")
            and encoding in ("", "identity")
            and not content_type.startswith(STREAMED_TYPES)
        )

    @staticmethod
    def limit_for(path: str) -> int:
        for prefix, limit in fieldline_settings.BODY_LIMITS.items():
            if path.startswith(prefix):
                return limit
        return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


class InputGuardMiddleware:
    """Query parameters and headers held to `fieldline.inputs` before any view reads them:
    no NUL, lone surrogate or control character (a NUL reaching a database lookup is a
    driver error), bounded lengths, and every list a bounded number of items (a key given
    more than FILTER_MAX_ITEMS times, or a value of more than FILTER_MAX_ITEMS
    comma-separated items). A 400 names the parameter or header, never its value."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        errors = self.problems(request)
        if errors:
            if request.path.startswith("/api/"):
                return JsonResponse(errors, status=400)
            from fieldline.errors import bad_request

            return bad_request(request)
        return self.get_response(request)

    @staticmethod
    def problems(request) -> dict[str, list[str]]:
        options = fieldline_settings
        most, longest = options.FILTER_MAX_ITEMS, options.QUERY_VALUE_MAX_LENGTH
        errors: dict[str, list[str]] = {}
        for index, (key, values) in enumerate(request.GET.lists()):
            label = safe_label(key, index)
            problem = header_problem(key)
            if problem is None and len(values) > most:
                problem = f"At most {most} values: this is a list with a bounded length."
            for value in values:
                if problem is not None:
                    break
                problem = header_problem(value)
                if problem is None and len(value) > longest:
                    problem = f"At most {longest} characters."
                if problem is None and value.count(",") >= most:
                    problem = f"At most {most} comma-separated items."
            if problem is not None:
                errors[label] = [problem]
        for name, value in request.META.items():
            if not name.startswith("HTTP_") or not isinstance(value, str):
                continue
            header = name[5:].replace("_", "-").title()
            problem = header_problem(value)
            if problem is None and len(value) > options.HEADER_MAX_LENGTH:
                problem = f"At most {options.HEADER_MAX_LENGTH} characters."
            if problem is not None:
                errors[f"header {header}"] = [problem]
        return errors
