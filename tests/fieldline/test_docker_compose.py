"""docker-compose.yml, Dockerfile and .dockerignore describe the production picture.

`docker compose config` validates the file when the compose plugin is installed; the
structural checks below always run, on the YAML as PyYAML reads it (anchors and `<<`
merge keys resolved, `${...}` interpolation left as written).
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
APP_IMAGE_SERVICES = ("app", "worker", "scheduler", "migrate", "createbucket")

# Values for the variables the compose file requires (`${VAR:?...}`).
REQUIRED_VARIABLES = {
    "SECRET_KEY": "x" * 64,
    "POSTGRES_PASSWORD": "compose-test-password",
    "ALLOWED_HOSTS": "fieldline.example.com",
    "S3_ACCESS_KEY_ID": "fieldline",
    "S3_SECRET_ACCESS_KEY": "compose-test-secret",
    "BROKER_PASSWORD": "compose-test-broker",
}


def compose_plugin_available() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(
        ["docker", "compose", "version"], capture_output=True, text=True, timeout=30
    )
    return probe.returncode == 0


def docker_compose_config(extra_env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in REQUIRED_VARIABLES}
    env.update(extra_env)
    # An empty env file: a local .env must not fill in what the test leaves out.
    env_file = tmp_path / "empty.env"
    env_file.write_text("")
    return subprocess.run(
        ["docker", "compose", "--env-file", str(env_file), "-f", str(COMPOSE_FILE), "config", "-q"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


needs_compose = pytest.mark.skipif(
    not compose_plugin_available(),
    reason="`docker compose` is not available (no docker client or no compose plugin); "
    "docker-compose.yml is only checked structurally by the PyYAML tests",
)


@needs_compose
def test_docker_compose_config_accepts_the_file(tmp_path):
    result = docker_compose_config(REQUIRED_VARIABLES, tmp_path)
    assert result.returncode == 0, result.stderr


@needs_compose
def test_docker_compose_config_requires_a_secret_key(tmp_path):
    env = {k: v for k, v in REQUIRED_VARIABLES.items() if k != "SECRET_KEY"}
    result = docker_compose_config(env, tmp_path)
    assert result.returncode != 0
    assert "set SECRET_KEY" in result.stderr


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return env


def depends_on(service: dict) -> set[str]:
    deps = service.get("depends_on") or []
    return set(deps)


def test_services_exist(compose):
    services = compose["services"]
    for name in ("db", "app", "worker", "scheduler", "broker", "redis", "objectstore"):
        assert name in services, f"service {name!r} missing from docker-compose.yml"
    assert "seaweedfs" in services["objectstore"]["image"]
    assert "-s3" in services["objectstore"]["command"]


def test_app_is_configured_by_environment(compose):
    env = environment(compose["services"]["app"])
    for name in (
        "DATABASE_URL",
        "SECRET_KEY",
        "DEBUG",
        "ALLOWED_HOSTS",
        "CSRF_TRUSTED_ORIGINS",
        "AWS_STORAGE_BUCKET_NAME",
        "AWS_S3_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "CACHE_URL",
        "SECURE_SSL_REDIRECT",
        "CELERY_BROKER_URL",
    ):
        assert name in env, f"app environment lacks {name}"
    assert env["DEBUG"] == "false"
    assert env["SECRET_KEY"].startswith("${SECRET_KEY:?"), "SECRET_KEY must be required"
    assert env["DATABASE_URL"].startswith("postgres://")
    assert "@db:5432/" in env["DATABASE_URL"]
    assert env["CACHE_URL"] == "rediscache://redis:6379/1"


def test_app_and_worker_share_image_and_settings(compose):
    services = compose["services"]
    app_env = environment(services["app"])
    for name in APP_IMAGE_SERVICES:
        service = services[name]
        assert service["image"] == services["app"]["image"], name
        assert service["build"] == ".", name
        env = environment(service)
        assert {k: v for k, v in app_env.items() if k in env} == env, name


def test_dependencies(compose):
    services = compose["services"]
    assert "db" in depends_on(services["app"])
    assert services["app"]["depends_on"]["db"]["condition"] == "service_healthy"
    for name in ("app", "worker", "scheduler"):
        deps = services[name]["depends_on"]
        assert deps["migrate"]["condition"] == "service_completed_successfully", name
        assert deps["createbucket"]["condition"] == "service_completed_successfully", name
        assert "redis" in deps, name
    for name in ("worker", "scheduler"):
        assert services[name]["depends_on"]["broker"]["condition"] == "service_healthy", name
    assert "db" in depends_on(services["migrate"])
    assert "objectstore" in depends_on(services["createbucket"])


def test_database_and_stores(compose):
    services = compose["services"]
    db = services["db"]
    assert db["image"].startswith("postgres:15")
    assert "healthcheck" in db
    volume = db["volumes"][0].split(":")[0]
    assert volume in compose["volumes"], "the database needs a named volume"
    for name in ("redis", "broker", "objectstore", "app"):
        assert "healthcheck" in services[name], name
    for name in ("objectstore", "broker"):
        assert services[name]["volumes"][0].split(":")[0] in compose["volumes"], name


def test_jobs_go_through_a_durable_broker(compose):
    services = compose["services"]
    broker_url = environment(services["app"])["CELERY_BROKER_URL"]
    assert broker_url.startswith("amqp://")
    assert "@broker:5672" in broker_url
    assert "${BROKER_PASSWORD:?" in broker_url, "the broker password must be required"
    assert services["broker"]["image"].startswith("rabbitmq:")


def test_commands(compose):
    services = compose["services"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "fieldline", "worker"]
    assert services["scheduler"]["command"][:4] == ["celery", "-A", "fieldline", "beat"]
    assert services["migrate"]["command"][:3] == ["python", "backend/manage.py", "migrate"]
    for name in ("createbucket", "app"):
        command = services[name].get("command") or services[name]["healthcheck"]["test"]
        scripts = [part for part in command if part.startswith("docker/")]
        for script in scripts:
            assert (ROOT / script).is_file(), script


def test_worker_finds_the_project():
    """`celery -A fieldline` in the image imports the project from PYTHONPATH."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "PYTHONPATH=/app/backend:/app" in dockerfile
    result = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "fieldline", "report"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": f"{ROOT / 'backend'}:{ROOT}"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_dockerfile():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in dockerfile
    assert "requirements.lock" in dockerfile
    assert "collectstatic" in dockerfile
    assert '"gunicorn", "fieldline.wsgi:application", "--chdir", "backend"' in dockerfile
    assert "EXPOSE 8000" in dockerfile
    users = [line.split()[1] for line in dockerfile.splitlines() if line.startswith("USER ")]
    assert users, "the image must switch to a non-root user"
    assert users[-1] not in ("root", "0"), "the image must run as a non-root user"


def test_dockerignore_keeps_secrets_and_local_state_out():
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for entry in (".git", ".venv", "var", ".env"):
        assert entry in ignored, entry
