"""AWS calls the waiting trigger makes: at most one describe and one step listing per poll interval."""

from __future__ import annotations

import asyncio
import math
import time

import pytest
from airflow_sagemaker_pipelines.sensors.pipeline_execution import PipelineExecutionSensor
from airflow_sagemaker_pipelines.triggers.pipeline_execution import PipelineExecutionTrigger

from devtools.local_sagemaker.models import LocalSageMakerBackend
from tests.support.pipelines import create_pipeline, processing_step, put_script, unique

POLL_SECONDS = 1.0
RUN_SECONDS = 6


@pytest.mark.perf
def test_trigger_polls_once_per_interval_with_one_describe_and_one_listing(endpoint_client, monkeypatch, endpoint) -> None:
    from devtools.local_airflow.environment import aws_connection_uri_json

    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", aws_connection_uri_json(endpoint))
    calls = {"describe": 0, "list_steps": 0}
    for name, method in (("describe", "describe_pipeline_execution"), ("list_steps", "list_pipeline_execution_steps")):
        real = getattr(LocalSageMakerBackend, method)

        def counted(self, *args, _real=real, _name=name, **kwargs):
            calls[_name] += 1
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(LocalSageMakerBackend, method, counted)

    bucket = unique("trigger-calls")
    endpoint_client("s3").create_bucket(Bucket=bucket)
    sagemaker = endpoint_client("sagemaker")
    key = put_script(endpoint_client("s3"), bucket, f"import time\ntime.sleep({RUN_SECONDS})\n")
    arn = sagemaker.start_pipeline_execution(
        PipelineName=create_pipeline(sagemaker, [processing_step("Sleep", bucket, key)]))["PipelineExecutionArn"]

    async def wait() -> dict:
        trigger = PipelineExecutionTrigger(pipeline_execution_arn=arn, waiter_delay=POLL_SECONDS, aws_conn_id="aws_default")
        async for event in trigger.run():
            return event.payload
        raise AssertionError("no event")

    started = time.monotonic()
    event = asyncio.run(wait())
    elapsed = time.monotonic() - started
    intervals = math.ceil(elapsed / POLL_SECONDS)
    print(f"\nTrigger over {elapsed:.1f} s at a {POLL_SECONDS:.0f} s interval: {calls['describe']} describe and "
          f"{calls['list_steps']} step-list calls; {calls['describe'] / intervals:.2f} and "
          f"{calls['list_steps'] / intervals:.2f} per interval (goal <= 1 each)")
    assert event["status"] == "success"
    assert calls["describe"] <= intervals + 1 and calls["list_steps"] <= intervals + 1
    assert PipelineExecutionSensor(task_id="wait", pipeline_exec_arn=arn).poll_interval == 30  # the default
