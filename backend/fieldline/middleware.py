"""Refuse requests no view can read safely, before anything reads them."""

from django.conf import settings
from django.http import JsonResponse


class BodySizeLimitMiddleware:
    """413 for a declared body over DATA_UPLOAD_MAX_MEMORY_SIZE, except where a view sets its
    own larger limit (photo bytes, imports) by path prefix in FIELDLINE["BODY_LIMITS"].

    Also 401 for an Authorization header that is not ASCII: tokens are ASCII, and the token
    authentication decodes the header as UTF-8 and would fail with a 500 on other bytes."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"detail": "Invalid Content-Length."}, status=400)
        if length > self.limit_for(request.path):
            return JsonResponse({"detail": "Request body is too large."}, status=413)
        if not request.META.get("HTTP_AUTHORIZATION", "").isascii():
            detail = (
                "Invalid token header. Send 'Authorization: Token <key>' with the key exactly "
                "as the token endpoint answered it."
            )
            response = JsonResponse({"detail": detail}, status=401)
            response["WWW-Authenticate"] = "Token"
            return response
        return self.get_response(request)

    @staticmethod
    def limit_for(path: str) -> int:
        for prefix, limit in settings.FIELDLINE["BODY_LIMITS"].items():
            if path.startswith(prefix):
                return limit
        return settings.DATA_UPLOAD_MAX_MEMORY_SIZE
