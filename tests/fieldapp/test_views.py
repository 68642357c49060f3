"""The rep's app as the server hands it out: the shell under a strict CSP, the service
worker and its file list, the files (gzip, ETag, 304), the landing page, the templates in
force for reps, and the same answers from gunicorn with DEBUG off (no static handler)."""

import gzip
import json
import re
import urllib.request
from pathlib import Path

import pytest
from fieldapp.assets import APP_ROOT, build_id, shell_files

from surveys.models import SurveyTemplate
from tests.server_process import ServerProcess, current_database_url
from tests.surveys import scenario

JS_FILES = sorted(APP_ROOT.rglob("*.js"))


def sw_files(body: str) -> list[str]:
    return json.loads(re.search(r"const SHELL = (\[.*?\]);", body).group(1))


def test_the_shell_has_a_strict_csp_and_nothing_inline(client):
    answer = client.get("/app/")

    assert answer.status_code == 200
    csp = answer["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "style-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert "geolocation=(self)" in answer["Permissions-Policy"]
    html = answer.content.decode()
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []  # no inline script
    assert "<style" not in html
    assert "style=" not in html
    assert 'role="status"' in html
    assert '<link rel="manifest" href="/app/manifest.webmanifest">' in html


@pytest.mark.parametrize("path", [p.relative_to(APP_ROOT).as_posix() for p in JS_FILES])
def test_no_script_builds_code_or_styles_from_strings(path):
    source = (APP_ROOT / path).read_text()
    for banned in (
        "eval(",
        "new Function",
        "innerHTML",
        "outerHTML",
        ".style.",
        "setAttribute('style'",
        "insertAdjacentHTML",
        "document.write",
    ):
        assert banned not in source, f"{path} uses {banned}"


def test_the_service_worker_caches_every_file_of_the_shell(client):
    answer = client.get("/app/sw.js")

    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/javascript")
    assert answer["Service-Worker-Allowed"] == "/app/"
    body = answer.content.decode()
    assert f"fieldline-app-{build_id()}" in body
    listed = sw_files(body)
    assert {"/app/", "/app/manifest.webmanifest", "/app/config.json"} <= set(listed)
    assert {f"/app/{name}" for name in shell_files()} <= set(listed)
    assert "/app/js/main.js" in listed
    assert "/app/sync/client.js" in listed
    for path in listed:
        assert client.get(path).status_code == 200, path


def test_files_are_gzipped_with_an_etag_and_revalidate_to_304(client):
    plain = client.get("/app/js/main.js")
    zipped = client.get("/app/js/main.js", HTTP_ACCEPT_ENCODING="gzip, br")
    again = client.get("/app/js/main.js", HTTP_IF_NONE_MATCH=plain["ETag"])

    source = (APP_ROOT / "js/main.js").read_bytes()
    assert plain.content == source
    assert "Content-Encoding" not in plain
    assert zipped["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.content) == source
    assert zipped["Vary"] == "Accept-Encoding"
    assert again.status_code == 304
    assert again.content == b""
    assert plain["Cache-Control"] == "no-cache"


@pytest.mark.parametrize(
    "path", ["/app/../settings.py", "/app/js/missing.js", "/app/js/main.py", "/app/%2e%2e/urls.js"]
)
def test_nothing_outside_the_app_is_served(client, path):
    assert client.get(path).status_code == 404


def test_the_manifest_makes_an_installable_app(client):
    manifest = client.get("/app/manifest.webmanifest")

    assert manifest["Content-Type"] == "application/manifest+json"
    body = manifest.json()
    assert (body["start_url"], body["scope"], body["display"]) == ("/app/", "/app/", "standalone")
    sizes = {icon["sizes"] for icon in body["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in body["icons"]:
        assert client.get(icon["src"])["Content-Type"] == "image/png"


def test_the_config_mirrors_the_server_settings(client, settings):
    settings.FIELDLINE = {**settings.FIELDLINE, "GEOFENCE_RADIUS_M": 99.0, "APP_VERSION": "2.3.4"}

    body = client.get("/app/config.json").json()

    assert body["app_version"] == "2.3.4"
    assert body["geofence"]["radius_m"] == 99.0
    assert body["geofence"]["radius_by_trade_area"] == {"transit": 300.0}


def test_an_object_store_origin_is_allowed_for_photo_uploads(client, settings):
    settings.FIELDLINE = {**settings.FIELDLINE, "APP_CONNECT_SRC": ["https://photos.example.com"]}

    csp = client.get("/app/")["Content-Security-Policy"]

    assert "connect-src 'self' https://photos.example.com;" in csp


def test_the_landing_page_links_the_app_hq_docs_and_admin(client):
    answer = client.get("/")

    assert answer.status_code == 200
    html = answer.content.decode()
    for href in ('href="/app/"', 'href="/hq/"', 'href="/api/docs/"', 'href="/admin/"'):
        assert href in html


def test_a_rep_reads_the_templates_in_force(people, client_for):
    scenario.build(people)
    rep = client_for("rep_north")

    answer = rep.get("/api/survey-templates/current")

    assert answer.status_code == 200
    latest = {(t["trade_area_type"], t["version"]) for t in answer.json()}
    expected = {
        (
            kind,
            max(
                SurveyTemplate.objects.filter(trade_area_type=kind).values_list(
                    "version", flat=True
                )
            ),
        )
        for kind in SurveyTemplate.objects.values_list("trade_area_type", flat=True)
    }
    assert latest == expected
    assert ("office", 2) in latest
    assert ("office", 1) not in latest
    # Reading them is all a rep may do: the full list and creating stay HQ's.
    assert rep.get("/api/survey-templates/").status_code == 403


def test_templates_in_force_need_a_token(client):
    assert client.get("/api/survey-templates/current").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_gunicorn_with_debug_off_serves_the_whole_app(tmp_path):
    server = ServerProcess(current_database_url(), log_path=tmp_path / "server.log").start()
    try:

        def fetch(path: str, **headers: str):
            request = urllib.request.Request(server.url + path, headers=headers)
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status, dict(answer.headers), answer.read()

        status, headers, body = fetch("/app/")
        assert status == 200
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        _, _, worker = fetch("/app/sw.js")
        for path in sw_files(worker.decode()):
            status, headers, body = fetch(path, **{"Accept-Encoding": "gzip"})
            assert status == 200, path
        status, headers, body = fetch("/app/sync/client.js", **{"Accept-Encoding": "gzip"})
        assert headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(body) == Path(APP_ROOT / "sync/client.js").read_bytes()
        status, _, body = fetch("/")
        assert status == 200
        assert b'href="/app/"' in body
    finally:
        server.stop()


def test_a_new_app_version_names_a_new_service_worker_cache(client, settings):
    before = client.get("/app/sw.js").content
    settings.FIELDLINE = {**settings.FIELDLINE, "APP_VERSION": "9.9.9"}
    build_id.cache_clear()
    try:
        after = client.get("/app/sw.js").content
    finally:
        build_id.cache_clear()

    assert re.search(rb"fieldline-app-(\w+)", before).group(1) != re.search(
        rb"fieldline-app-(\w+)", after
    ).group(1)
