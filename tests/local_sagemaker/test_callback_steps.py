"""Callback steps built with SDK v3's CallbackStep: a token on SQS, the execution waits, an answer ends it."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.pipelines import ROLE, steps_by_name, unique, wait_for


@pytest.fixture(scope="module")
def callback_queue(endpoint_client) -> str:
    return endpoint_client("sqs").create_queue(QueueName=unique("callbacks"))["QueueUrl"]


def start_callback_pipeline(sagemaker, sdk_session, queue_url: str) -> str:
    """Approve (a Callback step) -> a Condition on its 'decision' output -> Fail when it is not 'yes'."""
    from sagemaker.core.workflow.conditions import ConditionEquals
    from sagemaker.core.workflow.functions import Join
    from sagemaker.core.workflow.parameters import ParameterString
    from sagemaker.mlops.workflow.callback_step import CallbackOutput, CallbackStep
    from sagemaker.mlops.workflow.condition_step import ConditionStep
    from sagemaker.mlops.workflow.fail_step import FailStep
    from sagemaker.mlops.workflow.pipeline import Pipeline

    model = ParameterString("ModelName", default_value="model-7")
    decision = CallbackOutput(output_name="decision")
    approve = CallbackStep(name="Approve", sqs_queue_url=queue_url, inputs={"model": model, "note": "check it"},
                           outputs=[decision])
    refused = FailStep(name="Refused", error_message=Join(on=" ", values=["refused:", decision.expr("Approve")]))
    gate = ConditionStep(name="Accepted", conditions=[ConditionEquals(approve.properties.Outputs["decision"], "yes")],
                         if_steps=[], else_steps=[refused])
    pipeline = Pipeline(name=unique("callback"), parameters=[model], steps=[approve, gate], sagemaker_session=sdk_session)
    pipeline.upsert(role_arn=ROLE)
    return pipeline.start().arn


def waiting_token(sagemaker, arn: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        step = steps_by_name(sagemaker, arn).get("Approve")
        if step and step["StepStatus"] == "Executing" and "Callback" in step.get("Metadata", {}):
            return step["Metadata"]["Callback"]["CallbackToken"]
        time.sleep(0.1)
    raise TimeoutError(f"the callback step of {arn} never waited")


def callback_message(endpoint_client, queue_url: str) -> dict[str, Any]:
    messages = endpoint_client("sqs").receive_message(QueueUrl=queue_url, WaitTimeSeconds=5)["Messages"]
    return json.loads(messages[0]["Body"])


def test_the_step_sends_its_token_waits_and_its_output_reaches_later_steps(
    sagemaker, sdk_session, endpoint_client, callback_queue
) -> None:
    arn = start_callback_pipeline(sagemaker, sdk_session, callback_queue)
    token = waiting_token(sagemaker, arn)
    assert callback_message(endpoint_client, callback_queue) == {
        "token": token, "arguments": {"model": "model-7", "note": "check it"}, "status": "Executing"}
    assert sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"] == "Executing"

    answered = sagemaker.send_pipeline_execution_step_success(
        CallbackToken=token, OutputParameters=[{"Name": "decision", "Value": "no"}])

    assert answered["PipelineExecutionArn"] == arn
    described = wait_for(sagemaker, arn)
    assert described["PipelineExecutionStatus"] == "Failed" and described["FailureReason"] == "refused: no"
    approve = steps_by_name(sagemaker, arn)["Approve"]
    assert approve["StepStatus"] == "Succeeded"
    assert approve["Metadata"]["Callback"]["OutputParameters"] == [{"Name": "decision", "Value": "no"}]


def test_a_failure_answer_fails_the_step_with_its_reason(sagemaker, sdk_session, endpoint_client, callback_queue) -> None:
    arn = start_callback_pipeline(sagemaker, sdk_session, callback_queue)
    token = waiting_token(sagemaker, arn)
    callback_message(endpoint_client, callback_queue)
    sagemaker.send_pipeline_execution_step_failure(CallbackToken=token, FailureReason="the reviewer said no")
    described = wait_for(sagemaker, arn)
    assert described["PipelineExecutionStatus"] == "Failed" and "the reviewer said no" in described["FailureReason"]
    with pytest.raises(ClientError, match="ResourceNotFound"):  # answered once, the token is spent
        sagemaker.send_pipeline_execution_step_success(CallbackToken=token)


def test_a_waiting_step_stops_with_its_execution_and_bad_answers_are_refused(
    sagemaker, sdk_session, endpoint_client, callback_queue
) -> None:
    arn = start_callback_pipeline(sagemaker, sdk_session, callback_queue)
    token = waiting_token(sagemaker, arn)
    callback_message(endpoint_client, callback_queue)
    with pytest.raises(ClientError, match=r"ValidationException.*'verdict'"):
        sagemaker.send_pipeline_execution_step_success(CallbackToken=token,
                                                       OutputParameters=[{"Name": "verdict", "Value": "x"}])
    with pytest.raises(ClientError, match="ResourceNotFound"):
        sagemaker.send_pipeline_execution_step_success(CallbackToken="0" * 32)

    sagemaker.stop_pipeline_execution(PipelineExecutionArn=arn)

    assert wait_for(sagemaker, arn)["PipelineExecutionStatus"] == "Stopped"
    assert steps_by_name(sagemaker, arn)["Approve"]["StepStatus"] == "Stopped"
