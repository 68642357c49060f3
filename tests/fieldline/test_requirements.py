"""The dependency locks: the runtime set (requirements.lock, all the production image
installs) holds everything the application needs and no development tool; the
development set (requirements-dev.lock) adds the tools on top of it."""

import importlib.metadata
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def pins(name: str) -> dict[str, str]:
    """{package: version} of a lock file's `name==version` lines."""
    pinned = {}
    for line in (ROOT / name).read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "-r")):
            package, version = line.split("==")
            pinned[canonicalize_name(package)] = version
    return pinned


def installed_closure(requirements: list[str]) -> set[str]:
    """The distributions these requirements pull in, as installed here (extras and
    environment markers evaluated)."""
    seen: set[tuple[str, frozenset[str]]] = set()
    stack = [Requirement(text) for text in requirements]
    while stack:
        requirement = stack.pop()
        key = (canonicalize_name(requirement.name), frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        for text in importlib.metadata.distribution(requirement.name).requires or []:
            dependency = Requirement(text)
            environments = [{"extra": extra} for extra in requirement.extras or {""}]
            if dependency.marker is None or any(
                dependency.marker.evaluate(environment) for environment in environments
            ):
                stack.append(dependency)
    return {name for name, _extras in seen}


def test_the_runtime_lock_pins_everything_the_application_needs():
    missing = installed_closure(PROJECT["dependencies"]) - set(pins("requirements.lock"))
    assert not missing


def test_the_runtime_lock_holds_no_development_tool():
    tools = {
        canonicalize_name(Requirement(text).name)
        for text in PROJECT["optional-dependencies"]["test"]
    }
    assert tools, "the test extra lists the tools"
    assert not tools & set(pins("requirements.lock"))


def test_the_development_lock_adds_the_tools_on_top_of_the_runtime_set():
    dev_lock = (ROOT / "requirements-dev.lock").read_text().splitlines()
    assert "-r requirements.lock" in dev_lock
    runtime, development = pins("requirements.lock"), pins("requirements-dev.lock")
    assert not set(runtime) & set(development), "a package is pinned once"
    tools = installed_closure(PROJECT["optional-dependencies"]["test"])
    assert not tools - set(runtime) - set(development)


def test_the_image_installs_the_runtime_set_only():
    steps = [
        line
        for line in (ROOT / "Dockerfile").read_text().splitlines()
        if line.startswith(("RUN ", "COPY "))
    ]
    assert "RUN pip install --requirement requirements.lock" in steps
    assert not [step for step in steps if "requirements-dev" in step]
