"""requirements.lock is what `make lock` makes of requirements.txt, and this environment is exactly it."""

from __future__ import annotations

import hashlib
import importlib.metadata
import re

from packaging.markers import Marker
from packaging.utils import canonicalize_name

from tests.conftest import PROJECT_ROOT

REQUIREMENTS = PROJECT_ROOT / "requirements.txt"
LOCK = PROJECT_ROOT / "requirements.lock"
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(?P<version>[^\s;\\]+)\s*(?:;\s*(?P<marker>[^\\]+?))?\s*\\?$")


def pins(path) -> list[tuple[str, str, str | None]]:
    found = []
    for line in path.read_text().splitlines():
        if match := PIN.match(line):
            found.append((canonicalize_name(match["name"]), match["version"], match["marker"]))
    return found


def test_lock_was_made_from_this_requirements_txt() -> None:
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    assert f"# requirements.txt sha256: {digest}" in LOCK.read_text(), "requirements.txt changed: run `make lock`"
    locked = {(name, version) for name, version, _ in pins(LOCK)}
    for name, version, _ in pins(REQUIREMENTS):
        assert (name, version) in locked, f"{name}=={version} of requirements.txt is not in requirements.lock"


def test_every_locked_package_has_its_hashes() -> None:
    entries = re.split(r"\n(?=[A-Za-z0-9])", LOCK.read_text())
    packages = [entry for entry in entries if PIN.match(entry.splitlines()[0])]
    assert len(packages) > 200  # Airflow, the provider, the SDK, moto and the ML libraries pull in that many
    for entry in packages:
        assert "--hash=sha256:" in entry, entry.splitlines()[0]


def test_this_environment_is_the_lock() -> None:
    """Nothing missing and no other version: `make` installed the lock (uv pip sync), not a resolution of its own."""
    wrong = []
    for name, version, marker in pins(LOCK):
        if marker and not Marker(marker).evaluate():
            continue
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            installed = "missing"
        if installed != version:
            wrong.append(f"{name}: locked {version}, installed {installed}")
    assert not wrong, wrong
