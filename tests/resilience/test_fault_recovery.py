"""Faults injected into the native stack (LocalExecutor, Postgres): what dies comes back, nothing runs twice.

A stack of this module's own, whose `aws_default` reaches the endpoint through a proxy that can
hold back one answer (held_responses.py). The tests run in order and share it: a bad settings
Variable fails in one try; the triggerer killed while the wait is deferred; the scheduler killed
(with everything it started, as when its container dies) while start_execution waits for AWS's
answer; the endpoint killed after the execution ended and restarted while the trigger polls
(within the outage budget); the endpoint restarted between two runs; then the whole stack
stopped and started again. Every wait is bounded; the recovery times
are printed (`pytest -s`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import boto3
import psutil
import pytest

from devtools.local_airflow.environment import REGION
from devtools.local_airflow.processes import alive
from devtools.local_airflow.stack import ENDPOINT, LocalAirflowStack, wait_for_http
from tests.resilience.held_responses import HoldingProxy
from tests.resilience.stacks import proxied_stack
from tests.stack.runs import (
    PIPELINE,
    Api,
    eventually,
    executions_of_run,
    finished,
    new_run_id,
    run_digest,
    run_path,
    seed_large_partition,
    task_instance,
    trigger,
)
from tests.support.declarations import CLASSIFICATION

SETTINGS = "sagemaker_pipelines_settings"
START = "SageMaker.StartPipelineExecution"
DESCRIBE = "SageMaker.DescribePipelineExecution"

# One worker runs this module's tests, in order, on the one stack they share (`make test` spreads
# the suite over the cores: tests/support/parallel.py).
pytestmark = pytest.mark.xdist_group("fault-recovery")

@pytest.fixture(scope="module")
def faulty() -> Iterator[tuple[LocalAirflowStack, HoldingProxy]]:
    with proxied_stack(seed_days=2, poll_seconds=1) as running:
        yield running


@pytest.fixture(scope="module")
def api(faulty) -> Api:
    return Api(faulty[0])


@pytest.fixture(scope="module")
def large_partition(faulty) -> str:
    """The data of the runs whose wait must defer (a wait that starts after the execution ended never does)."""
    return seed_large_partition(faulty[0].endpoint_url)


@pytest.fixture(scope="module")
def sagemaker(faulty):
    return boto3.session.Session(region_name=REGION).client("sagemaker", endpoint_url=faulty[0].endpoint_url)


@pytest.mark.timeout(600)
def test_a_bad_settings_variable_set_through_the_api_fails_the_run_in_one_try(faulty, api) -> None:
    good = api.call(f"/api/v2/variables/{SETTINGS}")["value"]
    bad = {**json.loads(good), "traning_instance_type": "ml.m5.xlarge"}  # a typo of a known key
    api.call(f"/api/v2/variables/{SETTINGS}", body={"key": SETTINGS, "value": json.dumps(bad)}, method="PATCH")
    try:
        run_id = trigger(api)
        assert finished(api, run_id) == "failed"
    finally:
        api.call(f"/api/v2/variables/{SETTINGS}", body={"key": SETTINGS, "value": good}, method="PATCH")
    upsert = task_instance(api, run_id, "upsert_pipeline")
    assert (upsert["state"], upsert["try_number"]) == ("failed", 1)  # the DAG allows 2 retries: none was made
    log = api.call(f"{run_path(run_id)}/taskInstances/upsert_pipeline/logs/1")
    assert "traning_instance_type" in json.dumps(log)  # the error names the field


@pytest.mark.timeout(900)
def test_the_triggerer_killed_while_the_wait_is_deferred_comes_back_and_the_run_ends_with_one_execution(
        faulty, api, sagemaker, large_partition) -> None:
    stack, proxy = faulty
    run_id = trigger(api, {"input_data_url": large_partition})
    wait_deferred(api, run_id)
    arn = executions_of_run(sagemaker, run_id)[0]
    proxy.hold(DESCRIBE, containing=arn)  # the trigger's next poll: it cannot fire before the kill
    try:
        assert proxy.held.wait(120), "the deferred wait never polled the execution"
        stack.kill("triggerer")
        killed = time.monotonic()
        stack.start_component("triggerer")
    finally:
        proxy.release()

    assert finished(api, run_id) == "success"  # only a live triggerer could have fired the trigger
    print(f"\ntriggerer killed while deferred: run finished {time.monotonic() - killed:.0f} s after the kill")
    assert task_instance(api, run_id, "wait_for_execution")["try_number"] == 1  # resumed, not retried
    assert len(executions_of_run(sagemaker, run_id)) == 1


@pytest.mark.timeout(900)
def test_the_scheduler_killed_while_a_task_runs_is_replaced_and_the_task_recovers_within_90_s(
        faulty, api, sagemaker) -> None:
    stack, proxy = faulty
    run_id = new_run_id("scheduler-killed")
    proxy.hold(START, containing=run_digest(run_id))  # not the scheduled run's, which may start too
    try:
        trigger(api, run_id=run_id)
        assert proxy.held.wait(300), "start_execution never called StartPipelineExecution"
        started = task_instance(api, run_id, "start_execution")
        assert started["state"] == "running"
        assert len(executions_of_run(sagemaker, run_id)) == 1  # AWS accepted it; the task has no answer yet

        stack.kill("scheduler")  # with its LocalExecutor workers and the task they run
        killed = time.monotonic()
        stack.start_component("scheduler")
    finally:
        proxy.release()

    def recovered() -> bool:
        now = task_instance(api, run_id, "start_execution")
        return now["try_number"] > started["try_number"] or now["state"] not in ("running", "queued")

    eventually(recovered, "the orphaned start_execution reset", timeout=90, every=1)
    print(f"\nscheduler killed during start_execution: task reset {time.monotonic() - killed:.0f} s after the kill")
    assert finished(api, run_id) == "success"
    assert task_instance(api, run_id, "start_execution")["try_number"] > started["try_number"]
    assert len(executions_of_run(sagemaker, run_id)) == 1  # the retry got the same execution back


def restart_endpoint(stack: LocalAirflowStack, *, crash: bool) -> None:
    """SIGKILL (`crash`) or stop the endpoint, then start it again on its work dir and port."""
    if crash:
        stack.kill(ENDPOINT)
    else:
        stack.process_set.stop([ENDPOINT], 30)
    wait_for_http(f"{stack.endpoint_url}/moto-api/", 120, stack.start_component(ENDPOINT))


@pytest.mark.timeout(900)
def test_the_endpoint_killed_and_restarted_within_the_outage_budget_costs_polls_not_the_run(
        faulty, api, sagemaker, large_partition) -> None:
    stack, proxy = faulty
    run_id = trigger(api, {"input_data_url": large_partition})
    wait_deferred(api, run_id)
    arn = eventually(lambda: executions_of_run(sagemaker, run_id), "the run's execution")[0]
    proxy.hold(DESCRIBE, containing=arn)  # the trigger must not see the end before the endpoint dies
    try:
        assert proxy.held.wait(120), "the deferred wait never polled the execution"
        eventually(lambda: sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)[
            "PipelineExecutionStatus"] == "Succeeded", "the execution's end", timeout=300)
        stack.kill(ENDPOINT)
    finally:
        proxy.release()
    for _ in range(3):  # the trigger polls into the outage
        assert proxy.refusals.acquire(timeout=120), "the trigger did not poll while the endpoint was down"
    down = time.monotonic()
    restart_endpoint(stack, crash=False)  # (already dead: this only starts it)

    assert finished(api, run_id) == "success"
    print(f"\nendpoint killed after the execution ended: the run finished {time.monotonic() - down:.0f} s after "
          "the restart began")
    wait = task_instance(api, run_id, "wait_for_execution")
    assert wait["try_number"] == 1  # the outage cost polls (botocore's retries, the trigger's budget), not a try
    assert executions_of_run(sagemaker, run_id) == [arn]


@pytest.mark.timeout(900)
def test_the_endpoint_restarted_between_two_runs_keeps_the_data_the_pipeline_and_the_registry(
        faulty, api, sagemaker) -> None:
    stack, _ = faulty
    pipeline = sagemaker.describe_pipeline(PipelineName=PIPELINE)
    packages = sagemaker.list_model_packages(ModelPackageGroupName=CLASSIFICATION.model_package_group,
                                             MaxResults=100)["ModelPackageSummaryList"]
    assert packages, "the earlier runs registered no model package"

    restart_endpoint(stack, crash=False)
    run_id = trigger(api)

    assert finished(api, run_id) == "success"  # its data day's partition was still there
    after = sagemaker.describe_pipeline(PipelineName=PIPELINE)
    assert after["CreationTime"] == pipeline["CreationTime"]  # the same pipeline, not one created again
    kept = sagemaker.list_model_packages(ModelPackageGroupName=CLASSIFICATION.model_package_group,
                                         MaxResults=100)["ModelPackageSummaryList"]
    assert {p["ModelPackageArn"] for p in packages} <= {p["ModelPackageArn"] for p in kept}


@pytest.mark.timeout(600)
def test_a_stopped_stack_leaves_no_process_and_a_restart_finds_runs_connection_and_edited_variables(
        faulty, api) -> None:
    stack, proxy = faulty
    runs_before = {run["dag_run_id"] for run in api.call("/api/v2/dags/sagemaker_training_pipeline/dagRuns")["dag_runs"]}
    api.call("/api/v2/variables/sagemaker_pipelines_poll_seconds",
             body={"key": "sagemaker_pipelines_poll_seconds", "value": "3"}, method="PATCH")  # as a person does in the UI
    processes = [process for managed in stack.process_set.processes.values() for process in managed.tree()]
    assert {"postgres", "local-sagemaker", "scheduler", "api-server"} <= set(stack.process_set.processes)

    stack.stop()
    assert alive(processes) == []
    assert _processes_mentioning(str(stack.home)) == []  # nothing reparented to init either

    stack.start()
    runs_after = {run["dag_run_id"] for run in api.call("/api/v2/dags/sagemaker_training_pipeline/dagRuns")["dag_runs"]}
    assert runs_before and runs_before <= runs_after
    assert api.call("/api/v2/variables/sagemaker_pipelines_poll_seconds")["value"] == "3"  # the edit survived
    extra = json.loads(api.call("/api/v2/connections/aws_default")["extra"])
    assert extra == {"region_name": "us-east-1", "endpoint_url": proxy.url}


def wait_deferred(api: Api, run_id: str, timeout: float = 300) -> None:
    """The run's wait deferred; if not in time, what every run of the DAG and this run's tasks were doing."""
    try:
        eventually(lambda: task_instance(api, run_id, "wait_for_execution")["state"] == "deferred",
                   "the wait deferred", timeout=timeout)
    except TimeoutError as error:
        runs = api.call("/api/v2/dags/sagemaker_training_pipeline/dagRuns?limit=100")["dag_runs"]
        tasks = api.call(f"{run_path(run_id)}/taskInstances")["task_instances"]
        raise TimeoutError(f"{error}. Runs: {[(r['dag_run_id'], r['state']) for r in runs]}; this run's tasks: "
                           f"{[(t['task_id'], t['state'], t['try_number']) for t in tasks]}") from None


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for process in psutil.process_iter(["pid", "cmdline"]):
        if any(text in part for part in process.info["cmdline"] or []):
            found.append(f"{process.info['pid']}: {' '.join(process.info['cmdline'])}")
    return found
