"""The language of an answer: the pages (HQ, admin) follow the browser or the language
menu; the API always answers in the default language (English), so an app developer's
error messages and field names do not change with a phone's settings. The rep's app and
static files are the same bytes in every language, so their answers do not vary by it
(a `Vary: Accept-Language` would split every cache of them per language)."""

from django.conf import settings
from django.http import HttpRequest
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

LANGUAGE_NEUTRAL_PREFIXES = ("/api/", "/app/", "/static/")


class PageLocaleMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware (Accept-Language, then the `django_language` cookie the
    language menu sets), for every path but the API's, the app's and static files'."""

    def process_request(self, request: HttpRequest) -> None:
        if request.path_info.startswith(LANGUAGE_NEUTRAL_PREFIXES):
            translation.activate(settings.LANGUAGE_CODE)
            request.LANGUAGE_CODE = settings.LANGUAGE_CODE
            return
        super().process_request(request)

    def process_response(self, request: HttpRequest, response):
        if request.path_info.startswith(LANGUAGE_NEUTRAL_PREFIXES):
            return response
        return super().process_response(request, response)
