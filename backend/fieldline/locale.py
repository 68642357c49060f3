"""The language of an answer: the pages (HQ, admin) follow the browser or the language
menu; the API always answers in the default language (English), so an app developer's
error messages and field names do not change with a phone's settings."""

from django.conf import settings
from django.http import HttpRequest
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

API_PREFIX = "/api/"


class PageLocaleMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware (Accept-Language, then the `django_language` cookie the
    language menu sets), for every path but the API's."""

    def process_request(self, request: HttpRequest) -> None:
        if request.path_info.startswith(API_PREFIX):
            translation.activate(settings.LANGUAGE_CODE)
            request.LANGUAGE_CODE = settings.LANGUAGE_CODE
            return
        super().process_request(request)

    def process_response(self, request: HttpRequest, response):
        if request.path_info.startswith(API_PREFIX):
            return response
        return super().process_response(request, response)
