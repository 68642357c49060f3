"""The language of an answer: the pages (HQ, admin) follow the browser or the language
menu; the API always answers in the default language (English), so an app developer's
error messages and field names do not change with a phone's settings; the rep's app
(/app/) is its own, and its cached files do not vary by language."""

from django.conf import settings
from django.http import HttpRequest
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

# Answered in LANGUAGE_CODE, without Content-Language or Vary: Accept-Language.
UNLOCALIZED = ("/api/", "/app/")


class PageLocaleMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware (the `django_language` cookie the language menu sets, then
    Accept-Language), for every path but the API's and the rep's app's."""

    def process_request(self, request: HttpRequest) -> None:
        if request.path_info.startswith(UNLOCALIZED):
            translation.activate(settings.LANGUAGE_CODE)
            request.LANGUAGE_CODE = settings.LANGUAGE_CODE
            return
        super().process_request(request)

    def process_response(self, request: HttpRequest, response):
        if request.path_info.startswith(UNLOCALIZED):
            return response
        return super().process_response(request, response)
