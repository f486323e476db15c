"""The trigger against real executions on the local endpoint."""

from __future__ import annotations

import asyncio
import re
import time
from types import SimpleNamespace
from typing import Any

import pytest
from airflow_sagemaker_pipelines.hooks.pipeline_execution import PipelineExecutionHook
from airflow_sagemaker_pipelines.triggers.pipeline_execution import PipelineExecutionTrigger

from tests.support.pipelines import create_pipeline, processing_step, put_script, wait_for
from tests.support.triggers import first_event

STEPS_BEYOND_ONE_PAGE = 55  # the API's default page holds 50


def condition_chain(count: int) -> list[dict[str, Any]]:
    """`count` instant steps in a row: an execution whose step listing spans two pages."""
    return [{"Name": f"Check{i:02d}", "Type": "Condition",
             **({"DependsOn": [f"Check{i - 1:02d}"]} if i else {}),
             "Arguments": {"Conditions": [{"Type": "Equals", "LeftValue": 1, "RightValue": 1}],
                           "IfSteps": [], "ElseSteps": []}}
            for i in range(count)]


def start(sagemaker, pipeline_name: str) -> str:
    return sagemaker.start_pipeline_execution(PipelineName=pipeline_name)["PipelineExecutionArn"]


def script_pipeline(endpoint_client, sagemaker, bucket: str, source: str) -> str:
    key = put_script(endpoint_client("s3"), bucket, source)
    return create_pipeline(sagemaker, [processing_step("RunScript", bucket, key)])


def trigger_for(arn: str, **kwargs: Any) -> PipelineExecutionTrigger:
    return PipelineExecutionTrigger(pipeline_execution_arn=arn, waiter_delay=0.2, aws_conn_id="aws_default", **kwargs)


def test_success_is_logged_step_by_step_across_listing_pages(aws_default_connection, sagemaker, capfd) -> None:
    arn = start(sagemaker, create_pipeline(sagemaker, condition_chain(STEPS_BEYOND_ONE_PAGE)))
    wait_for(sagemaker, arn)
    capfd.readouterr()

    event = first_event(trigger_for(arn))

    assert event == {"status": "success", "value": arn, "execution_status": "Succeeded"}
    logged = capfd.readouterr()
    step_lines = re.findall(r"Step Check\d+: \w+", logged.out + logged.err)
    assert len(step_lines) == STEPS_BEYOND_ONE_PAGE
    assert step_lines[-1] == f"Step Check{STEPS_BEYOND_ONE_PAGE - 1}: Succeeded"
    assert len(PipelineExecutionHook(aws_conn_id="aws_default").list_execution_steps(arn)) == STEPS_BEYOND_ONE_PAGE


def test_failure_event_names_the_step_and_sagemakers_reason(aws_default_connection, endpoint_client, sagemaker, bucket) -> None:
    pipeline = script_pipeline(endpoint_client, sagemaker, bucket, "import sys\nprint('feature x is empty')\nsys.exit(3)\n")
    arn = start(sagemaker, pipeline)

    event = first_event(trigger_for(arn))

    assert event["status"] == "failed" and event["execution_status"] == "Failed"
    assert event["failed_step"] == "RunScript" and event["failed_step_type"] == "ProcessingJob"
    assert "exited with code 3" in event["failure_reason"]


def test_deadline_stops_the_execution_and_reports_a_timeout(aws_default_connection, endpoint_client, sagemaker, bucket) -> None:
    arn = start(sagemaker, script_pipeline(endpoint_client, sagemaker, bucket, "import time\ntime.sleep(120)\n"))

    event = first_event(trigger_for(arn, deadline=time.time() + 1))

    assert event["status"] == "timeout"
    assert wait_for(sagemaker, arn, timeout=30)["PipelineExecutionStatus"] == "Stopped"


def killed_as(arn: str, state: str | None, monkeypatch: pytest.MonkeyPatch) -> PipelineExecutionTrigger:
    """The trigger of a deferred task that a user just marked `state` (None: cleared).

    The triggerer asks the API server for the task's state; here Airflow's own lookup answers
    what the metadata DB would."""
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

    monkeypatch.setattr(RuntimeTaskInstance, "get_task_states", staticmethod(
        lambda dag_id, task_ids, run_ids, **_: {"run-1": {"wait": state}}))
    trigger = trigger_for(arn)
    trigger.task_instance = SimpleNamespace(dag_id="dag", run_id="run-1", task_id="wait", map_index=-1)
    return trigger


def test_marking_the_deferred_task_failed_stops_the_execution(
    aws_default_connection, endpoint_client, sagemaker, bucket, monkeypatch
) -> None:
    arn = start(sagemaker, script_pipeline(endpoint_client, sagemaker, bucket, "import time\ntime.sleep(120)\n"))
    wait_for(sagemaker, arn, statuses=("Executing",))

    asyncio.run(killed_as(arn, "failed", monkeypatch).on_kill())

    assert wait_for(sagemaker, arn, timeout=30)["PipelineExecutionStatus"] == "Stopped"


@pytest.mark.parametrize("state", [None, "success"])
def test_clearing_the_deferred_task_leaves_the_execution_running(
    aws_default_connection, endpoint_client, sagemaker, bucket, monkeypatch, state
) -> None:
    arn = start(sagemaker, script_pipeline(endpoint_client, sagemaker, bucket, "import time\ntime.sleep(120)\n"))
    wait_for(sagemaker, arn, statuses=("Executing",))

    asyncio.run(killed_as(arn, state, monkeypatch).on_kill())

    assert sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"] == "Executing"
    sagemaker.stop_pipeline_execution(PipelineExecutionArn=arn)


def test_trigger_survives_serialization_to_the_triggerer() -> None:
    trigger = trigger_for("arn:aws:sagemaker:us-east-1:1:pipeline/p/execution/e", deadline=123.0, stop_on_kill=False)
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_sagemaker_pipelines.triggers.pipeline_execution.PipelineExecutionTrigger"
    rebuilt = PipelineExecutionTrigger(**kwargs)
    assert rebuilt.serialize() == (classpath, kwargs)
    assert (rebuilt.deadline, rebuilt.stop_on_kill, rebuilt.waiter_delay) == (123.0, False, 0.2)
