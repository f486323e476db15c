"""`make airflow`'s stack: the four Airflow components and the endpoint come up, serve, and stop cleanly."""

from __future__ import annotations

import os
import signal
import urllib.error

import psutil
import pytest

from devtools.local_airflow.stack import ADMIN_USER, COMPONENTS, ENDPOINT, LocalAirflowStack
from tests.stack.runs import components_that_preloaded, eventually
from tests.support.constants import DAG_ID


def test_stack_serves_on_loopback_and_logs_in_with_the_generated_password(stack: LocalAirflowStack, api) -> None:
    assert stack.url.startswith("http://127.0.0.1:")
    assert set(stack.processes) == {ENDPOINT, "postgres", *COMPONENTS}
    assert all(process.poll() is None for process in stack.processes.values())
    api.wait_for_dag(DAG_ID)
    assert api.call("/api/v2/importErrors")["import_errors"] == []
    with pytest.raises(urllib.error.HTTPError):
        type(api).call(api, "/auth/token", body={"username": ADMIN_USER, "password": "wrong"})


def test_nothing_of_the_stack_listens_beyond_loopback_nor_more_than_the_api_and_the_endpoint(
        stack: LocalAirflowStack, api) -> None:
    """Postgres on its socket only, no log servers (Airflow binds them to every interface)."""
    api.wait_for_dag(DAG_ID)
    pids = {process.pid for managed in stack.process_set.processes.values() for process in managed.tree()}
    listening = {(c.laddr.ip, c.laddr.port) for c in psutil.net_connections("inet")
                 if c.pid in pids and c.status == psutil.CONN_LISTEN}
    assert listening == {("127.0.0.1", stack.api_port), ("127.0.0.1", stack.endpoint_port)}


def test_the_scheduler_preloads_for_the_tasks_its_local_executor_forks_and_no_other_component_does(
        stack: LocalAirflowStack) -> None:
    eventually(lambda: "scheduler" in components_that_preloaded(stack), "the scheduler's preload", timeout=120)
    assert components_that_preloaded(stack) == {"scheduler"}


def test_a_connection_or_variable_in_the_shell_does_not_shadow_the_stacks_own(stack_home, monkeypatch) -> None:
    """Airflow reads AIRFLOW_CONN_*/AIRFLOW_VAR_* before the DB: inherited, they would override what the
    stack seeded there (and the UI's edits), and this aws_default, without endpoint_url, is real AWS."""
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", '{"conn_type": "aws", "extra": {"region_name": "eu-west-1"}}')
    monkeypatch.setenv("AIRFLOW_VAR_SAGEMAKER_PIPELINES_SETTINGS", '{"bucket": "someone-elses"}')

    env = LocalAirflowStack(stack_home).process_environment()

    assert [name for name in env if name.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_"))] == []
    assert env["AIRFLOW_HOME"] == str(stack_home)


@pytest.mark.timeout(300)
def test_an_api_server_that_crashes_is_started_again_and_its_crash_is_recorded_with_its_stacks(
        stack: LocalAirflowStack, api) -> None:
    """As compose's `restart: always`: the crash is a blip. SIGSEGV is what the api-server has died of."""
    crashed, earlier = stack.processes["api-server"], len(stack.crashes)
    os.kill(crashed.pid, signal.SIGSEGV)
    assert crashed.wait(60) == -signal.SIGSEGV

    assert api.call("/api/v2/version")["version"]  # the call waits out the restart
    assert stack.processes["api-server"].pid != crashed.pid
    [crash] = stack.crashes[earlier:]
    assert f"api-server exited {-signal.SIGSEGV} on its own and was started again" in crash
    assert "Fatal Python error: Segmentation fault" in crash  # the fault handler's report: each thread's stack
    stack.crashes.remove(crash)  # this test's own: not one to warn of
