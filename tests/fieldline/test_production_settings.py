"""Production settings (DEBUG=false): deploy checks, the SECRET_KEY guard, security headers.

Settings are read once per process from the environment, so each case runs Django in a
subprocess with a controlled environment instead of patching settings in this one.
"""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MANAGE = ROOT / "backend" / "manage.py"
HOST = "fieldline.example.com"

# Variables that change what the production settings do; the tests set them explicitly.
SETTINGS_VARIABLES = (
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "DJANGO_SETTINGS_MODULE",
    "CELERY_BROKER_URL",
    "JOBS_INLINE",
    "CACHE_URL",
)
# Production has a broker and a shared cache; nothing connects to them for these checks.
BROKER_URL = "redis://broker.invalid:6379/0"
CACHE_URL = "rediscache://cache.invalid:6379/1"


def production_env(**overrides: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    env.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS=HOST,
        CELERY_BROKER_URL=BROKER_URL,
        CACHE_URL=CACHE_URL,
        DJANGO_SETTINGS_MODULE="fieldline.settings",
        PYTHONDONTWRITEBYTECODE="1",
    )
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def deploy_check(env: dict[str, str]) -> subprocess.CompletedProcess:
    return run([str(MANAGE), "check", "--deploy", "--fail-level", "WARNING"], env)


def test_deploy_check_is_clean():
    result = deploy_check(production_env())
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNING" not in output, output
    assert "System check identified no issues" in result.stdout, output


def test_deploy_check_is_clean_when_the_proxy_does_the_https_redirect():
    result = deploy_check(production_env(SECURE_SSL_REDIRECT="false"))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNING" not in output, output


def test_deploy_check_warns_of_a_per_process_cache():
    """The login brake counts in the cache: per process, each app server counts apart."""
    result = deploy_check(production_env(CACHE_URL=None))
    assert result.returncode != 0
    assert "accounts.W001" in result.stdout + result.stderr


def test_deploy_check_reports_a_weak_secret_key():
    # The check itself is live: a short key is still caught.
    result = deploy_check(production_env(SECRET_KEY="short-key"))
    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


@pytest.mark.parametrize(
    "secret_key",
    [
        pytest.param(None, id="unset"),
        pytest.param("", id="empty"),
        pytest.param(
            "insecure-demo-key-change-me-with-a-long-random-value-for-production-use",
            id="demo-key",
        ),
    ],
)
def test_production_refuses_to_start_without_a_secret_key(secret_key):
    result = run([str(MANAGE), "check"], production_env(SECRET_KEY=secret_key))
    assert result.returncode != 0, result.stdout
    assert "SECRET_KEY must be set to a long random value when DEBUG is false" in result.stderr


def test_demo_mode_still_starts_without_a_secret_key_or_a_broker():
    result = run(
        [str(MANAGE), "check"],
        production_env(DEBUG="true", SECRET_KEY=None, CELERY_BROKER_URL=None),
    )
    assert result.returncode == 0, result.stderr


def test_the_api_docs_need_a_login_in_production_unless_said_otherwise():
    code = [
        "-c",
        "from fieldline.conf import fieldline_settings; "
        "print(fieldline_settings.API_DOCS_LOGIN_REQUIRED)",
    ]

    def required(env: dict[str, str]) -> str:
        result = run([str(MANAGE), "shell", *code], env)
        assert result.returncode == 0, result.stderr
        return result.stdout.splitlines()[-1]

    assert required(production_env()) == "True"
    assert required(production_env(DEBUG="true")) == "False"
    assert required(production_env(FIELDLINE_API_DOCS_LOGIN_REQUIRED="false")) == "False"


PRINT_DEBUG = [
    "-c",
    "from django.conf import settings; print(settings.DEBUG, settings.CELERY_TASK_ALWAYS_EAGER)",
]


def test_debug_is_off_unless_set():
    result = run([str(MANAGE), "shell", *PRINT_DEBUG], production_env(DEBUG=None))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == ["False", "False"]


def test_a_forgotten_debug_and_secret_key_do_not_ship_the_demo_key():
    result = run([str(MANAGE), "check"], production_env(DEBUG=None, SECRET_KEY=None))
    assert result.returncode != 0, result.stdout
    assert "SECRET_KEY must be set to a long random value when DEBUG is false" in result.stderr


def test_production_refuses_to_start_without_a_broker():
    result = run([str(MANAGE), "check"], production_env(CELERY_BROKER_URL=None))
    assert result.returncode != 0, result.stdout
    assert "CELERY_BROKER_URL must name a broker when DEBUG is false" in result.stderr


def test_production_runs_jobs_inline_only_when_told_to():
    env = production_env(CELERY_BROKER_URL=None, JOBS_INLINE="true")
    result = run([str(MANAGE), "shell", *PRINT_DEBUG], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == ["False", "True"]


# Runs inside a subprocess with production settings: requests /api/health the ways a
# client can reach it and prints status and headers as JSON.
HEADERS_PROBE = f"""
import json, sys
sys.path[:0] = ["backend", "."]
import django
django.setup()
from django.test import Client

client = Client()
host = {HOST!r}
responses = {{
    "https": client.get("/api/health", secure=True, HTTP_HOST=host),
    "proxied_https": client.get(
        "/api/health", HTTP_HOST=host, HTTP_X_FORWARDED_PROTO="https"
    ),
    "plain_http": client.get("/api/health", HTTP_HOST=host),
}}
print(json.dumps({{
    name: {{"status": r.status_code, "headers": dict(r.headers)}}
    for name, r in responses.items()
}}))
"""


@pytest.fixture(scope="module")
def production_responses() -> dict:
    result = run(["-c", HEADERS_PROBE], production_env())
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("how", ["https", "proxied_https"])
def test_security_headers_on_https(production_responses, how):
    response = production_responses[how]
    headers = {k.lower(): v for k, v in response["headers"].items()}
    assert response["status"] == 200
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    hsts = headers["strict-transport-security"]
    assert "max-age=31536000" in hsts
    assert "includeSubDomains" in hsts
    assert "preload" in hsts


def test_plain_http_is_redirected_to_https(production_responses):
    response = production_responses["plain_http"]
    headers = {k.lower(): v for k, v in response["headers"].items()}
    assert response["status"] == 301
    assert headers["location"] == f"https://{HOST}/api/health"
    # HSTS is only ever sent over https.
    assert "strict-transport-security" not in headers


def test_several_app_servers_need_a_shared_cache():
    """Replicas or a pool mean several app servers: a per-process cache would give each its
    own login brake, throttle and read-your-writes notes."""
    replica = "postgres://app@replica.invalid:5432/fieldline"
    alone = deploy_check(production_env(DATABASE_REPLICA_URLS=replica, CACHE_URL=None))
    assert alone.returncode != 0
    assert "fieldline.E001" in alone.stdout + alone.stderr
    shared = deploy_check(
        production_env(DATABASE_REPLICA_URLS=replica, CACHE_URL="rediscache://cache.invalid:6379/1")
    )
    assert shared.returncode == 0, shared.stdout + shared.stderr
