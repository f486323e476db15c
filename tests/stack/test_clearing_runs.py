"""What the UI's buttons do to a waiting run, on the native stack: clear re-attaches, mark failed stops."""

from __future__ import annotations

import json
import time

import pytest

from tests.stack.runs import eventually, reports_about, run_state, seed_large_partition, task_instance, trigger
from tests.support.constants import DAG_ID

WAIT = "wait_for_execution"


@pytest.fixture(scope="module")
def large_partition(stack) -> str:
    return seed_large_partition(stack.endpoint_url)


def execution_of(api, run_id: str) -> str:
    entry = api.call(f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/start_execution/xcomEntries/return_value")
    value = entry["value"]
    return json.loads(value) if value.startswith('"') else value


def failure_reports(stack, run_id: str) -> list[str]:
    """[FAILED] reports of this run that reached the stack's SNS topic (its SQS queue), drained."""
    return reports_about(stack, "[FAILED]", run_id)


@pytest.mark.timeout(600)
def test_clearing_the_waiting_task_re_attaches_to_the_running_execution(stack, api, stack_sagemaker,
                                                                       large_partition) -> None:
    run_id = trigger(api, {"input_data_url": large_partition})
    eventually(lambda: task_instance(api, run_id, WAIT)["state"] == "deferred", "the wait deferred")
    arn = execution_of(api, run_id)

    api.call(f"/api/v2/dags/{DAG_ID}/clearTaskInstances", body={
        "dry_run": False, "dag_run_id": run_id, "task_ids": [WAIT], "only_failed": False,
        "include_downstream": False, "reset_dag_runs": True})

    assert stack_sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"] == "Executing"
    eventually(lambda: run_state(api, run_id) in ("success", "failed"), "the run's end", timeout=400)
    assert run_state(api, run_id) == "success"
    assert stack_sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"] == "Succeeded"
    summary = api.call(f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{WAIT}/xcomEntries/execution_arn")
    assert arn in summary["value"]


@pytest.mark.timeout(600)
def test_marking_the_waiting_task_failed_stops_the_execution_and_reports_once(stack, api, stack_sagemaker,
                                                                             large_partition) -> None:
    run_id = trigger(api, {"input_data_url": large_partition})
    eventually(lambda: task_instance(api, run_id, WAIT)["state"] == "deferred", "the wait deferred")
    arn = execution_of(api, run_id)
    failure_reports(stack, run_id)

    api.call(f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{WAIT}", body={"new_state": "failed"},
             method="PATCH")

    eventually(lambda: stack_sagemaker.describe_pipeline_execution(
        PipelineExecutionArn=arn)["PipelineExecutionStatus"] == "Stopped", "the execution stopped", timeout=60)
    eventually(lambda: run_state(api, run_id) == "failed", "the run failed", timeout=120)
    reports = eventually(lambda: failure_reports(stack, run_id), "the failure report", timeout=60)
    time.sleep(5)  # a second report would follow the first within seconds
    reports += failure_reports(stack, run_id)
    assert len(reports) == 1, reports
    assert "Failed task: wait_for_execution" in reports[0] and "unknown error" not in reports[0]
