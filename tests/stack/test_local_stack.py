"""`make airflow`'s stack: the four Airflow components and the endpoint come up, serve, and stop cleanly."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from include.local_airflow.stack import ADMIN_USER, COMPONENTS, LocalAirflowStack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalAirflowStack]:
    with LocalAirflowStack(tmp_path_factory.mktemp("airflow-stack"), seed_days=2) as running:
        yield running
    exit_codes = {name: process.returncode for name, process in running.processes.items()}
    assert exit_codes == dict.fromkeys(exit_codes, 0), f"not a clean stop: {exit_codes}"


def api(stack: LocalAirflowStack, path: str, token: str | None = None, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"{stack.url}{path}", data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_stack_serves_on_loopback_and_logs_in_with_the_generated_password(stack: LocalAirflowStack) -> None:
    assert stack.url.startswith("http://127.0.0.1:")
    assert set(stack.processes) == {"local-sagemaker", *COMPONENTS}
    assert all(process.poll() is None for process in stack.processes.values())
    token = api(stack, "/auth/token", body={"username": ADMIN_USER, "password": stack.password})["access_token"]
    deadline = time.monotonic() + 60  # the dag-processor parses dags/ shortly after it starts
    while not (dags := api(stack, "/api/v2/dags", token)["dags"]) and time.monotonic() < deadline:
        time.sleep(1)
    assert [dag["dag_id"] for dag in dags] == ["sagemaker_training_pipeline"]
    assert dags[0]["is_paused"] is True  # as in docker-compose.yaml: nothing runs before someone says so
    assert api(stack, "/api/v2/importErrors", token)["import_errors"] == []
    with pytest.raises(urllib.error.HTTPError):
        api(stack, "/auth/token", body={"username": ADMIN_USER, "password": "wrong"})
