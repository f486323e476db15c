"""PipelineExecutionSensor on real executions: its synchronous verdicts, and resuming when it runs again."""

from __future__ import annotations

import urllib.request
from types import SimpleNamespace

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException
from airflow_sagemaker_pipelines.sensors.pipeline_execution import PipelineExecutionSensor

from tests.support.pipelines import (
    create_pipeline,
    definition,
    processing_step,
    put_script,
    steps_by_name,
    steps_completing_with_failures,
    wait_for,
)
from tests.support.template_fields import assert_template_fields_are_constructor_attributes

SLEEPS = "import time\ntime.sleep(120)\n"


def start(sagemaker, pipeline_name: str) -> str:
    return sagemaker.start_pipeline_execution(PipelineName=pipeline_name)["PipelineExecutionArn"]


def one_step_pipeline(endpoint_client, sagemaker, bucket: str, source: str) -> tuple[str, list]:
    steps = [processing_step("RunScript", bucket, put_script(endpoint_client("s3"), bucket, source))]
    return create_pipeline(sagemaker, steps), steps


def rerun_context(arn: str, try_number: int = 2, cleared: bool = True) -> dict:
    """What Airflow hands the task on its try `try_number`; a clear sets max_tries to the last try
    plus the task's retries (none here). `pushed` keeps its XComs."""
    pushed: dict = {}
    ti = SimpleNamespace(dag_id="dag", run_id="run-1", task_id="wait", try_number=try_number,
                         max_tries=try_number - 1 if cleared else 0,
                         xcom_push=lambda key, value: pushed.__setitem__(key, value))
    return {"ti": ti, "pushed": pushed}


def test_synchronous_sensor_counts_stopped_as_failure(aws_default_connection, endpoint_client, sagemaker, bucket) -> None:
    name, _ = one_step_pipeline(endpoint_client, sagemaker, bucket, SLEEPS)
    arn = start(sagemaker, name)
    wait_for(sagemaker, arn, statuses=("Executing",))
    sensor = PipelineExecutionSensor(task_id="wait", pipeline_exec_arn=arn, deferrable=False)
    assert sensor.poke({}) is False
    sagemaker.stop_pipeline_execution(PipelineExecutionArn=arn)
    wait_for(sagemaker, arn)
    with pytest.raises(AirflowException, match=f"Pipeline execution {arn} Stopped at step RunScript"):
        sensor.poke({})


@pytest.mark.parametrize("deferrable", [False, True])
def test_an_execution_that_completes_with_failures_fails_the_task_for_good_naming_the_steps(
    aws_default_connection, sagemaker, deferrable: bool
) -> None:
    arn = start(sagemaker, create_pipeline(sagemaker, steps_completing_with_failures()))
    wait_for(sagemaker, arn)
    sensor = PipelineExecutionSensor(task_id="wait", pipeline_exec_arn=arn, deferrable=deferrable, poll_interval=0.2)
    expected = f"Pipeline execution {arn} CompletedWithFailures at step Breaks: .*broken on purpose.*broken too"
    # AirflowFailException: no retry, so the failure callback reports it once.
    with pytest.raises(AirflowFailException, match=expected):
        if deferrable:  # the event its trigger sends (tests/plugins/test_pipeline_execution_trigger.py)
            sensor.execute_complete({}, {"status": "failed", "value": arn, "execution_status": "CompletedWithFailures",
                                         "failed_step": "Breaks", "failed_step_type": "Fail",
                                         "failure_reason": "2 steps did not succeed: Breaks Failed: broken on "
                                                           "purpose; AlsoBreaks Failed: broken too"})
        else:
            sensor.poke({})


def test_synchronous_sensor_returns_the_summary_on_success(aws_default_connection, endpoint_client, sagemaker,
                                                          bucket) -> None:
    name, _ = one_step_pipeline(endpoint_client, sagemaker, bucket, "print('done')\n")
    arn = start(sagemaker, name)
    wait_for(sagemaker, arn)
    done = PipelineExecutionSensor(task_id="wait", pipeline_exec_arn=arn, deferrable=False).poke({})
    assert done.is_done
    assert done.xcom_value == {"execution_arn": arn, "execution_status": "Succeeded", "failure_reason": None,
                               "failed_step": None, "failed_step_type": None, "gate_failed": False}


def test_a_cleared_sensor_resumes_a_failed_execution_and_waits_for_the_same_one(
    aws_default_connection, endpoint, endpoint_client, sagemaker, bucket
) -> None:
    s3 = endpoint_client("s3")
    # Fails until the flag exists: a step that failed for a reason the world has since mended.
    source = (f"import boto3, sys\nkeys = boto3.client('s3').list_objects_v2(Bucket='{bucket}', Prefix='flags/ready')"
              ".get('KeyCount', 0)\nsys.exit(0 if keys else 5)\n")
    name, _ = one_step_pipeline(endpoint_client, sagemaker, bucket, source)
    arn = start(sagemaker, name)
    assert wait_for(sagemaker, arn)["PipelineExecutionStatus"] == "Failed"
    s3.put_object(Bucket=bucket, Key="flags/ready", Body=b"1")

    sensor = PipelineExecutionSensor(task_id="wait", pipeline_exec_arn=arn, deferrable=False, poll_interval=0.2)
    context = rerun_context(arn)
    summary = sensor.execute(context)

    assert summary["execution_arn"] == arn and summary["execution_status"] == "Succeeded"
    assert steps_by_name(sagemaker, arn)["RunScript"]["AttemptCount"] == 2
    link = context["pushed"]["sagemaker_pipeline_execution"]  # the console link, on the task people watch
    assert link["execution_id"] == arn.rsplit("/", 1)[-1] and link["region_name"] == "us-east-1"
    # The connection points at the local endpoint: its own page of the execution is linked too.
    local_page = context["pushed"]["local_endpoint_execution"]
    assert local_page == f"{endpoint}/local-console/pipelines/{name}/executions/{arn.rsplit('/', 1)[-1]}"
    with urllib.request.urlopen(local_page, timeout=10) as page:
        assert "<b>Status:</b> Succeeded" in page.read().decode()


def test_only_a_persons_clear_resumes_a_stopped_execution_a_first_run_or_a_retry_reports_it(
    aws_default_connection, endpoint_client, sagemaker, bucket
) -> None:
    name, _ = one_step_pipeline(endpoint_client, sagemaker, bucket, SLEEPS)
    arn = start(sagemaker, name)
    wait_for(sagemaker, arn, statuses=("Executing",))
    sagemaker.stop_pipeline_execution(PipelineExecutionArn=arn)
    wait_for(sagemaker, arn)
    sensor = PipelineExecutionSensor(task_id="wait", pipeline_exec_arn=arn, deferrable=False, poll_interval=0.2)
    with pytest.raises(AirflowFailException, match="Stopped at step RunScript"):
        sensor.execute(rerun_context(arn, try_number=1, cleared=False))
    with pytest.raises(AirflowFailException, match="Stopped at step RunScript"):  # an automatic retry
        sensor.execute(rerun_context(arn, try_number=2, cleared=False))


def test_a_cleared_sensor_refuses_to_resume_an_execution_of_an_updated_pipeline(
    aws_default_connection, endpoint_client, sagemaker, bucket
) -> None:
    name, steps = one_step_pipeline(endpoint_client, sagemaker, bucket, "import sys\nsys.exit(3)\n")
    arn = start(sagemaker, name)
    wait_for(sagemaker, arn)
    steps[0]["Arguments"]["Environment"] = {"FIXED": "1"}
    sagemaker.update_pipeline(PipelineName=name, PipelineDefinition=definition(steps))

    sensor = PipelineExecutionSensor(task_id="wait", pipeline_exec_arn=arn, deferrable=False)
    with pytest.raises(AirflowException, match=f"pipeline {name} was updated after the execution started.*"
                                               "clear start_execution too"):
        sensor.execute(rerun_context(arn))
    assert sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"] == "Failed"


def test_template_fields() -> None:
    assert_template_fields_are_constructor_attributes(
        PipelineExecutionSensor(task_id="wait", pipeline_exec_arn="arn", poll_interval="{{ var.value.x }}"))
