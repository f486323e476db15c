from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator

import boto3
import pytest

from include.local_airflow.environment import REGION
from include.local_airflow.stack import ADMIN_USER, LocalAirflowStack

SEEDED_DAYS = 10


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalAirflowStack]:
    """`make airflow`'s stack on free loopback ports, shared by this package's tests, stopped after them."""
    with LocalAirflowStack(tmp_path_factory.mktemp("airflow-stack"), seed_days=SEEDED_DAYS, poll_seconds=1) as running:
        yield running
    exit_codes = {name: process.returncode for name, process in running.processes.items()}
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
        with urllib.request.urlopen(request, timeout=10) as response:
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
