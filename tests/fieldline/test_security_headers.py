"""A strict Content-Security-Policy on every page (HQ, admin, API docs; the rep's app keeps
its own), no inline script or style for it to forbid, and the API's schema and docs behind a
login when FIELDLINE "API_DOCS_LOGIN_REQUIRED" is on (the production default)."""

import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.conftest import PASSWORD
from tests.surveys import scenario

pytestmark = pytest.mark.django_db

HQ_PAGES = [
    "/hq/",
    "/hq/map/",
    "/hq/review/",
    "/hq/dispatch/",
    "/hq/analytics/",
    "/hq/exports/",
    "/hq/devices/",
]
STRICT = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
]
# An executable inline script (a JSON data block, `json_script`, runs nothing and is fine).
INLINE_SCRIPT = re.compile(
    r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE
)
INLINE_STYLE = re.compile(r"<style\b|\sstyle=|\son[a-z]+=", re.IGNORECASE)


def assert_strict(response) -> None:
    policy = response["Content-Security-Policy"]
    for directive in STRICT:
        assert directive in policy.split("; "), (directive, policy)
    assert "unsafe" not in policy
    html = response.content.decode()
    assert not INLINE_SCRIPT.search(html), INLINE_SCRIPT.search(html)
    assert not INLINE_STYLE.search(html), INLINE_STYLE.search(html)


@pytest.fixture
def office(people) -> Client:
    scenario.build(people)
    client = Client()
    client.force_login(people["hq"])
    return client


@pytest.mark.parametrize("path", [page for page in HQ_PAGES if page != "/hq/map/"])
def test_hq_pages_have_a_strict_policy_and_nothing_inline(office, path):
    response = office.get(path)

    assert response.status_code == 200
    assert_strict(response)


def test_the_map_keeps_its_own_policy_with_no_inline_script(office):
    """The map sets its own policy (hq.csp: tile images; Leaflet's inline styles), which the
    middleware leaves alone; scripts are still its own origin's only."""
    response = office.get("/hq/map/")
    policy = response["Content-Security-Policy"]

    assert "script-src 'self'" in policy.split("; ")
    assert "frame-ancestors 'none'" in policy.split("; ")
    assert not INLINE_SCRIPT.search(response.content.decode())


def test_the_login_page_and_error_pages_have_it_too():
    assert_strict(Client().get("/hq/login/"))
    assert_strict(Client().get("/admin/login/"))
    missing = Client().get("/hq/no-such-page/")
    assert missing.status_code == 404
    assert "script-src 'self'" in missing["Content-Security-Policy"]


def test_the_reps_app_keeps_its_own_policy():
    policy = Client().get("/app/")["Content-Security-Policy"]

    assert "worker-src 'self'" in policy
    assert "manifest-src 'self'" in policy


def test_the_api_docs_page_loads_its_script_from_a_url(settings, people):
    settings.FIELDLINE = {**settings.FIELDLINE, "API_DOCS_LOGIN_REQUIRED": False}

    page = Client().get("/api/docs/", HTTP_ACCEPT="text/html")
    script = Client().get("/api/docs/?script=")

    assert page.status_code == 200
    assert_strict(page)
    assert 'src="/api/docs/?script="' in page.content.decode()
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.content.decode()


# --- the schema and docs behind a login --------------------------------------------------


@pytest.fixture
def docs_login(settings):
    settings.FIELDLINE = {**settings.FIELDLINE, "API_DOCS_LOGIN_REQUIRED": True}


def test_without_a_login_the_schema_is_401_and_the_docs_send_to_the_login(docs_login, people):
    schema = APIClient().get("/api/schema/")
    script = Client().get("/api/docs/?script=")
    page = Client().get("/api/docs/", HTTP_ACCEPT="text/html,application/xhtml+xml")

    assert schema.status_code == 401
    assert schema["WWW-Authenticate"] == "Token"
    assert script.status_code == 401
    assert page.status_code == 302
    assert page["Location"] == "/hq/login/?next=/api/docs/"


def test_a_token_or_an_hq_session_opens_them(docs_login, people, client_for):
    by_token = client_for("rep_north").get("/api/schema/")
    session = Client()
    login = session.post(
        "/hq/login/?next=/api/docs/",
        {"username": "manager-north", "password": PASSWORD, "next": "/api/docs/"},
    )

    assert by_token.status_code == 200
    assert b"openapi" in by_token.content
    assert (login.status_code, login["Location"]) == (302, "/api/docs/")
    assert session.get("/api/docs/", HTTP_ACCEPT="text/html").status_code == 200
    assert session.get("/api/schema/").status_code == 200


def test_with_the_setting_off_they_are_public(settings, people):
    settings.FIELDLINE = {**settings.FIELDLINE, "API_DOCS_LOGIN_REQUIRED": False}

    assert APIClient().get("/api/schema/").status_code == 200
    assert Client().get("/api/docs/", HTTP_ACCEPT="text/html").status_code == 200
