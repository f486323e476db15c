"""How `make test` spreads the suite over the machine's cores (pytest-xdist, `--dist loadgroup`).

Each worker is its own process with its own Airflow home, SQLite DB and local endpoint (the
session fixtures), so most tests run anywhere. Tests that use the native stack share one
stack, started once per worker that needs it: they are grouped onto one worker, which starts
it once. Without xdist (`pytest -p no:xdist`, or `-n 0`) the groups mean nothing.
"""

from __future__ import annotations

import pytest

STACK_GROUP = "native-stack"


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook names each item's group from its marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "stack" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group(STACK_GROUP))
