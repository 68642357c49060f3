"""What Django itself answers (an unknown address, a refused or failed request): a page a
person can read in a browser, JSON in the API's shape for API clients."""

import pytest
from django.test import Client, RequestFactory
from django.urls import get_resolver

from fieldline import errors

pytestmark = pytest.mark.django_db


def test_an_unknown_page_says_what_happened_and_where_to_go():
    response = Client().get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert "Page not found" in body
    assert 'href="/hq/"' in body
    assert 'href="/app/"' in body
    assert "The requested resource was not found on this server" not in body  # Django's own


def test_an_unknown_api_address_answers_json_pointing_to_the_docs():
    response = Client().get("/api/no-such-endpoint")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "/api/docs/" in response.json()["detail"]


@pytest.mark.parametrize("status", [400, 403, 404, 500])
def test_the_root_urlconf_wires_every_error_handler(status):
    handler = get_resolver().resolve_error_handler(status)
    assert handler.__module__ == "fieldline.errors"


@pytest.mark.parametrize("status", [400, 403, 404, 500])
def test_every_error_page_renders_without_a_request_context(status):
    """The 500 page must render even when the session or a context processor is what
    failed: it takes nothing from the request but its path."""
    request = RequestFactory().get("/hq/somewhere")
    response = errors.error_answer(request, status)
    assert response.status_code == status
    title, message = errors.ERROR_PAGES[status]
    body = response.content.decode()
    assert title in body
    assert message in body


@pytest.mark.parametrize("status", [400, 403, 404, 500])
def test_api_errors_say_what_to_do(status):
    request = RequestFactory().get("/api/stores/")
    response = errors.error_answer(request, status)
    assert response.status_code == status
    assert len(response.content) > 40
