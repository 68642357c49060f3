"""docker-compose.yml, Dockerfile and .dockerignore describe the production picture.

The checks read the composed configuration: `docker compose config` where the compose
plugin is installed, else a model of what it does, built here from the YAML (anchors and
`<<` merge keys resolved by PyYAML, `${VAR}`, `${VAR:-default}` and `${VAR:?message}`
interpolated, short forms of `environment` and `depends_on` normalized). What they check
is what the composition means: a required variable left out stops it, every reference
names something the file defines, and the app image's services load the production
settings from exactly the environment they are given.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

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
VARIABLE = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?:(?P<op>:-|:\?)(?P<arg>[^}]*))?\}")


class CompositionError(Exception):
    pass


def compose_plugin_available() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(
        ["docker", "compose", "version"], capture_output=True, text=True, timeout=30
    )
    return probe.returncode == 0


def interpolate(value, variables: dict[str, str]):
    if isinstance(value, dict):
        return {key: interpolate(item, variables) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, variables) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        if variables.get(name):
            return variables[name]
        if op == ":?":
            raise CompositionError(f"required variable {name} is missing a value: {arg}")
        return arg if op == ":-" else ""

    return VARIABLE.sub(substitute, value)


def normalized(service: dict) -> dict:
    service = dict(service)
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    service["environment"] = {key: "" if v is None else str(v) for key, v in env.items()}
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        deps = {name: {"condition": "service_started"} for name in deps}
    service["depends_on"] = deps
    return service


def composed_model(variables: dict[str, str]) -> dict:
    """What `docker compose config` gives, modelled: see the module's docstring."""
    raw = yaml.safe_load(COMPOSE_FILE.read_text())
    model = interpolate({key: value for key, value in raw.items() if key != "x-app"}, variables)
    model["services"] = {name: normalized(svc) for name, svc in model["services"].items()}
    return model


def docker_compose_config(variables: dict[str, str], tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in REQUIRED_VARIABLES}
    env.update(variables)
    # An empty env file: a local .env must not fill in what the test leaves out.
    env_file = tmp_path / "empty.env"
    env_file.write_text("")
    result = subprocess.run(
        ["docker", "compose", "--env-file", str(env_file), "-f", str(COMPOSE_FILE)]
        + ["config", "--format", "json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if result.returncode != 0:
        raise CompositionError(result.stderr)
    model = json.loads(result.stdout)
    model["services"] = {name: normalized(svc) for name, svc in model["services"].items()}
    return model


@pytest.fixture(scope="module")
def compose_with(tmp_path_factory):
    """compose_with(variables) -> the composed configuration, by Docker when it can."""
    if compose_plugin_available():
        tmp_path = tmp_path_factory.mktemp("compose")
        return lambda variables: docker_compose_config(variables, tmp_path)
    return composed_model


@pytest.fixture(scope="module")
def compose(compose_with) -> dict:
    return compose_with(REQUIRED_VARIABLES)


def environment(service: dict) -> dict[str, str]:
    return service["environment"]


def depends_on(service: dict) -> set[str]:
    return set(service["depends_on"])


@pytest.mark.parametrize("left_out", sorted(REQUIRED_VARIABLES))
def test_a_required_variable_left_out_stops_the_composition(compose_with, left_out):
    variables = {k: v for k, v in REQUIRED_VARIABLES.items() if k != left_out}
    with pytest.raises(CompositionError, match=f"set {left_out}"):
        compose_with(variables)


def test_the_model_interpolates_as_compose_does():
    variables = {"A": "1", "EMPTY": ""}
    assert interpolate("${A}-${B:-two}-${EMPTY:-three}-${C}", variables) == "1-two-three-"
    with pytest.raises(CompositionError, match="set D"):
        interpolate("${D:?set D}", variables)


def test_every_reference_names_something_the_file_defines(compose):
    services = compose["services"]
    volumes = set(compose.get("volumes") or {})
    for name, service in services.items():
        assert depends_on(service) <= set(services), name
        for mount in service.get("volumes") or []:
            source = mount["source"] if isinstance(mount, dict) else mount.split(":")[0]
            assert source in volumes, f"{name} mounts an undeclared volume {source}"
    # Every URL the app image is given points at a service of this file.
    for service in APP_IMAGE_SERVICES:
        env = environment(services[service])
        for variable in ("DATABASE_URL", "CACHE_URL", "CELERY_BROKER_URL", "AWS_S3_ENDPOINT_URL"):
            host = urlsplit(env[variable]).hostname
            assert host in services, f"{service}: {variable} names {host}, not a service"


def test_the_app_and_its_workers_run_one_image_with_one_configuration(compose):
    services = compose["services"]
    app_env = environment(services["app"])
    for name in APP_IMAGE_SERVICES:
        service = services[name]
        assert service["image"] == services["app"]["image"], name
        env = environment(service)
        assert {k: v for k, v in app_env.items() if k in env} == env, name


# Runs in a subprocess with exactly one service's composed environment: the settings that
# environment gives Django, as JSON.
SETTINGS_PROBE = """
import json
from django.conf import settings
db = settings.DATABASES["default"]
print(json.dumps({
    "debug": settings.DEBUG,
    "database": [db["ENGINE"], db["HOST"]],
    "jobs_inline": settings.CELERY_TASK_ALWAYS_EAGER,
    "broker_host": settings.CELERY_BROKER_URL.split("@")[-1].split(":")[0],
    "cache": settings.CACHES["default"]["BACKEND"],
    "storage": settings.STORAGES["default"]["BACKEND"],
    "ssl_redirect": settings.SECURE_SSL_REDIRECT,
}))
"""


def test_the_app_image_loads_the_production_settings_from_its_environment(compose):
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": f"{ROOT / 'backend'}{os.pathsep}{ROOT}",
        "DJANGO_SETTINGS_MODULE": "fieldline.settings",
        "PYTHONDONTWRITEBYTECODE": "1",
        **environment(compose["services"]["app"]),
    }
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + SETTINGS_PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == {
        "debug": False,
        "database": ["django.db.backends.postgresql", "db"],
        "jobs_inline": False,
        "broker_host": "broker",
        "cache": "django.core.cache.backends.redis.RedisCache",
        "storage": "storages.backends.s3.S3Storage",
        "ssl_redirect": True,
    }


def test_services_start_after_what_they_need(compose):
    services = compose["services"]
    condition = {
        name: {dep: spec.get("condition") for dep, spec in svc["depends_on"].items()}
        for name, svc in services.items()
    }
    for name in ("app", "worker", "scheduler"):
        assert condition[name]["db"] == "service_healthy", name
        assert condition[name]["redis"] == "service_healthy", name
        assert condition[name]["migrate"] == "service_completed_successfully", name
        assert condition[name]["createbucket"] == "service_completed_successfully", name
    for name in ("worker", "scheduler"):
        assert condition[name]["broker"] == "service_healthy", name
    assert condition["migrate"] == {"db": "service_healthy"}
    assert condition["createbucket"] == {"objectstore": "service_healthy"}
    # What a service waits for to be healthy has a health check.
    for waits in condition.values():
        for dep, state in waits.items():
            if state == "service_healthy":
                assert "healthcheck" in services[dep], dep


def test_state_lives_in_named_volumes(compose):
    services = compose["services"]
    for name in ("db", "broker", "objectstore"):
        assert services[name].get("volumes"), f"{name} keeps its data in a named volume"


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
