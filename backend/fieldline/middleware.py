"""Refuse oversized bodies before anything reads them."""

from django.conf import settings
from django.http import JsonResponse


class BodySizeLimitMiddleware:
    """413 for a declared body over DATA_UPLOAD_MAX_MEMORY_SIZE, except where a view sets its
    own larger limit (photo bytes, imports) by path prefix in FIELDLINE["BODY_LIMITS"]."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"detail": "Invalid Content-Length."}, status=400)
        if length > self.limit_for(request.path):
            return JsonResponse({"detail": "Request body is too large."}, status=413)
        return self.get_response(request)

    @staticmethod
    def limit_for(path: str) -> int:
        for prefix, limit in settings.FIELDLINE["BODY_LIMITS"].items():
            if path.startswith(prefix):
                return limit
        return settings.DATA_UPLOAD_MAX_MEMORY_SIZE
