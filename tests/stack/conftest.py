from __future__ import annotations

import json
import shutil
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from include.local_airflow.environment import REGION
from include.local_airflow.stack import ADMIN_USER, LocalAirflowStack

SEEDED_DAYS = 10


def new_stack_home() -> Path:
    """A home for a stack, outside pytest's temporary folders.

    Run as root, the stack's PostgreSQL server runs as `nobody` and needs to enter the folders on
    the way to its data; pytest makes /tmp/pytest-of-<user> private again at every session start
    (the other engineers' too), which would lock a running server out of its own files."""
    return Path(tempfile.mkdtemp(prefix="airflow-stack-"))


@pytest.fixture
def stack_home() -> Iterator[Path]:
    home = new_stack_home()
    yield home
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="package")
def stack() -> Iterator[LocalAirflowStack]:
    """`make airflow`'s stack on free loopback ports, shared by this package's tests, stopped after them."""
    home = new_stack_home()
    with LocalAirflowStack(home, seed_days=SEEDED_DAYS, poll_seconds=1) as running:
        yield running
    shutil.rmtree(home, ignore_errors=True)
    exit_codes = running.process_set.exit_codes
    assert exit_codes == dict.fromkeys(exit_codes, 0), f"not a clean stop: {exit_codes}"


class Api:
    """The Airflow REST API as the admin user."""

    def __init__(self, stack: LocalAirflowStack) -> None:
        self.stack = stack
        self.token = self.call("/auth/token", body={"username": ADMIN_USER, "password": stack.password})["access_token"]

    def call(self, path: str, body: dict | None = None, method: str | None = None) -> dict:
        headers = {"Content-Type": "application/json"}
        if getattr(self, "token", None):
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(f"{self.stack.url}{path}", method=method, headers=headers,
                                         data=json.dumps(body).encode() if body is not None else None)
        with urllib.request.urlopen(request, timeout=60) as response:  # an API server on a loaded machine
            return json.loads(response.read())

    def wait_for_dag(self, dag_id: str, timeout: float = 90) -> dict:
        """The dag-processor parses dags/ shortly after it starts."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dags = [d for d in self.call("/api/v2/dags")["dags"] if d["dag_id"] == dag_id]
            if dags:
                return dags[0]
            time.sleep(1)
        raise TimeoutError(f"{dag_id} did not appear within {timeout:.0f} s")


@pytest.fixture(scope="package")
def api(stack: LocalAirflowStack) -> Api:
    return Api(stack)


@pytest.fixture(scope="package")
def stack_sagemaker(stack: LocalAirflowStack):
    """A SageMaker client on the stack's own endpoint (not the session-wide one in tests/conftest.py)."""
    return boto3.session.Session(region_name=REGION).client("sagemaker", endpoint_url=stack.endpoint_url)
