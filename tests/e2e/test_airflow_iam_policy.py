"""deploy/iam/airflow-policy.json allows every AWS call Airflow makes for the package, and no more than it names.

The calls are recorded as the hooks make them (every client the provider makes carries `AmPP/` in its
user agent; the local endpoint's own clients do not), over the DAG's paths: approved, rejected by the
quality gate (keeping a model unpromoted makes the approval's calls), and a failed step whose log is
read, resumed and stopped; the deploy DAG's first deployment of the approved model (its requests captured), the
monitoring DAG checking them, the scoring DAG, and the new-data watcher reading its queue. Each call is turned into the IAM request AWS authorizes (action, resource,
condition keys), and the policy, filled in for this deployment, is evaluated by the local endpoint's
IAM policy simulator.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiobotocore.client import AioBaseClient
from botocore.client import BaseClient

from tests.conftest import PROJECT_ROOT
from tests.support.constants import REGION, ROLE_ARN
from tests.support.deployed_models import captured_on, captured_records
from tests.support.executions import executions_of
from tests.support.pipelines import wait_for

POLICY = PROJECT_ROOT / "deploy" / "iam" / "airflow-policy.json"
ACCOUNT = "123456789012"  # the local endpoint's
Call = tuple[str, str, dict[str, Any]]  # (service, operation, parameters)
IamRequest = tuple[str, str, dict[str, str]]  # (action, resource ARN, condition context)


@pytest.fixture
def airflow_calls(monkeypatch: pytest.MonkeyPatch) -> list[Call]:
    calls: list[Call] = []

    def by_airflow(client: Any) -> bool:
        return "AmPP/" in (client.meta.config.user_agent_extra or "")

    sync_call, async_call = BaseClient._make_api_call, AioBaseClient._make_api_call

    def recorded(client: Any, operation: str, parameters: dict[str, Any]) -> Any:
        if by_airflow(client):
            calls.append((client.meta.service_model.service_name, operation, dict(parameters)))
        return sync_call(client, operation, parameters)

    async def recorded_async(client: Any, operation: str, parameters: dict[str, Any]) -> Any:
        if by_airflow(client):
            calls.append((client.meta.service_model.service_name, operation, dict(parameters)))
        return await async_call(client, operation, parameters)

    monkeypatch.setattr(BaseClient, "_make_api_call", recorded)
    monkeypatch.setattr(AioBaseClient, "_make_api_call", recorded_async)
    return calls


def arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}"


def _pipeline(parameters: dict[str, Any]) -> str:
    return arn("sagemaker", f"pipeline/{parameters['PipelineName']}")


def _execution(parameters: dict[str, Any]) -> str:
    return parameters["PipelineExecutionArn"]


def _passed_role(parameters: dict[str, Any]) -> list[IamRequest]:
    return [("iam:PassRole", parameters["RoleArn"], {"iam:PassedToService": "sagemaker.amazonaws.com"})]


# How AWS authorizes each call the package makes: (service, operation) -> the IAM requests it needs.
AUTHORIZED_AS: dict[tuple[str, str], Callable[[dict[str, Any]], list[IamRequest]]] = {
    **{("sagemaker", operation): (lambda p, a=operation: [(f"sagemaker:{a}", _pipeline(p), {})])
       for operation in ("DescribePipeline", "StartPipelineExecution", "ListPipelineExecutions")},
    **{("sagemaker", operation): (lambda p, a=operation: [(f"sagemaker:{a}", _pipeline(p), {}), *_passed_role(p)])
       for operation in ("CreatePipeline", "UpdatePipeline")},
    **{("sagemaker", operation): (lambda p, a=operation: [(f"sagemaker:{a}", _execution(p), {})])
       for operation in ("DescribePipelineExecution", "ListPipelineExecutionSteps", "StopPipelineExecution",
                         "RetryPipelineExecution", "DescribePipelineDefinitionForExecution",
                         "ListPipelineParametersForExecution")},
    ("sagemaker", "DescribeProcessingJob"): lambda p: [
        ("sagemaker:DescribeProcessingJob", arn("sagemaker", f"processing-job/{p['ProcessingJobName'].lower()}"), {})],
    ("sagemaker", "CreateProcessingJob"): lambda p: [
        ("sagemaker:CreateProcessingJob", arn("sagemaker", f"processing-job/{p['ProcessingJobName'].lower()}"), {}),
        *_passed_role(p)],
    ("sagemaker", "DescribeTrainingJob"): lambda p: [
        ("sagemaker:DescribeTrainingJob", arn("sagemaker", f"training-job/{p['TrainingJobName'].lower()}"), {})],
    ("sagemaker", "ListModelPackages"): lambda p: [("sagemaker:ListModelPackages", "*", {})],
    **{("sagemaker", operation): (lambda p, a=operation: [(f"sagemaker:{a}", p["ModelPackageName" if "ModelPackageName" in p
                                                                              else "ModelPackageArn"], {})])
       for operation in ("DescribeModelPackage", "UpdateModelPackage")},
    ("s3", "ListObjectsV2"): lambda p: [("s3:ListBucket", f"arn:aws:s3:::{p['Bucket']}", {"s3:prefix": p.get("Prefix", "")})],
    **{("s3", operation): (lambda p: [("s3:GetObject", f"arn:aws:s3:::{p['Bucket']}/{p['Key']}", {})])
       for operation in ("GetObject", "HeadObject")},
    ("s3", "PutObject"): lambda p: [("s3:PutObject", f"arn:aws:s3:::{p['Bucket']}/{p['Key']}", {})],
    ("sns", "Publish"): lambda p: [("sns:Publish", p.get("TopicArn") or p["TargetArn"], {})],
    # The new-data watcher's (a triggerer's); AWS authorizes DeleteMessageBatch as DeleteMessage.
    ("sqs", "GetQueueUrl"): lambda p: [("sqs:GetQueueUrl", arn("sqs", p["QueueName"]), {})],
    ("sqs", "ReceiveMessage"): lambda p: [("sqs:ReceiveMessage", arn("sqs", p["QueueUrl"].rsplit("/", 1)[-1]), {})],
    ("sqs", "DeleteMessageBatch"): lambda p: [("sqs:DeleteMessage", arn("sqs", p["QueueUrl"].rsplit("/", 1)[-1]), {})],
    # The deploy DAG's.
    ("sagemaker", "CreateModel"): lambda p: [
        ("sagemaker:CreateModel", arn("sagemaker", f"model/{p['ModelName'].lower()}"), {}),
        ("iam:PassRole", p["ExecutionRoleArn"], {"iam:PassedToService": "sagemaker.amazonaws.com"})],
    ("sagemaker", "DescribeModel"): lambda p: [
        ("sagemaker:DescribeModel", arn("sagemaker", f"model/{p['ModelName'].lower()}"), {})],
    **{("sagemaker", operation): (lambda p, a=operation: [
        (f"sagemaker:{a}", arn("sagemaker", f"endpoint-config/{p['EndpointConfigName'].lower()}"), {})])
       for operation in ("CreateEndpointConfig", "DescribeEndpointConfig")},
    **{("sagemaker", operation): (lambda p, a=operation: [
        (f"sagemaker:{a}", arn("sagemaker", f"endpoint/{p['EndpointName'].lower()}"), {}),
        *([(f"sagemaker:{a}", arn("sagemaker", f"endpoint-config/{p['EndpointConfigName'].lower()}"), {})]
          if "EndpointConfigName" in p else [])])
       for operation in ("CreateEndpoint", "UpdateEndpoint", "DescribeEndpoint", "DeleteEndpoint")},
    ("sagemaker-runtime", "InvokeEndpoint"): lambda p: [
        ("sagemaker:InvokeEndpoint", arn("sagemaker", f"endpoint/{p['EndpointName'].lower()}"), {})],
    # The scoring DAG's.
    **{("sagemaker", operation): (lambda p, a=operation: [
        (f"sagemaker:{a}", arn("sagemaker", f"transform-job/{p['TransformJobName'].lower()}"), {})])
       for operation in ("CreateTransformJob", "DescribeTransformJob")},
    ("s3", "CopyObject"): lambda p: [
        ("s3:GetObject", f"arn:aws:s3:::{p['CopySource']['Bucket']}/{p['CopySource']['Key']}", {}),
        ("s3:PutObject", f"arn:aws:s3:::{p['Bucket']}/{p['Key']}", {})],
    # SageMakerHook.create_transform_job checks the input's bucket first; AWS authorizes HeadBucket as ListBucket.
    ("s3", "HeadBucket"): lambda p: [("s3:ListBucket", f"arn:aws:s3:::{p['Bucket']}", {})],
    ("s3", "DeleteObjects"): lambda p: [
        ("s3:DeleteObject", f"arn:aws:s3:::{p['Bucket']}/{item['Key']}", {}) for item in p["Delete"]["Objects"]],
    ("logs", "DescribeLogStreams"): lambda p: [
        ("logs:DescribeLogStreams", arn("logs", f"log-group:{p['logGroupName']}:*"), {})],
    ("logs", "GetLogEvents"): lambda p: [
        ("logs:GetLogEvents", arn("logs", f"log-group:{p['logGroupName']}:log-stream:{p['logStreamName']}"), {})],
}


ENDPOINT = "iam-policy-endpoint"
SCORING = "iam-policy-scoring"
NEW_DATA_QUEUE = "iam-policy-new-data"


def policy_for(deployment: Any, topic_arn: str) -> str:
    text = POLICY.read_text()
    for placeholder, value in (("ENDPOINT", ENDPOINT), ("SCORING", SCORING), ("NEW_DATA_QUEUE", NEW_DATA_QUEUE),
                               ("MODEL_PACKAGE_GROUP", deployment.model_package_group),
                               ("PIPELINE_ROLE", ROLE_ARN.rsplit("/", 1)[-1]), ("PIPELINE", deployment.pipeline_name),
                               ("BUCKET", deployment.bucket), ("PREFIX", "pipeline"), ("REGION", REGION),
                               ("ACCOUNT", ACCOUNT), ("TOPIC", topic_arn.rsplit(":", 1)[-1])):
        text = text.replace(placeholder, value)
    return text


def decisions(iam: Any, policy: str, requests: list[IamRequest]) -> dict[IamRequest, str]:
    found = {}
    for action, resource, context in requests:
        result = iam.simulate_custom_policy(
            PolicyInputList=[policy], ActionNames=[action], ResourceArns=[resource],
            ContextEntries=[{"ContextKeyName": key, "ContextKeyValues": [value], "ContextKeyType": "string"}
                            for key, value in context.items()])["EvaluationResults"][0]
        found[(action, resource, tuple(sorted(context.items())))] = result["EvalDecision"]  # type: ignore[index]
    return found


def fail_a_step_read_its_log_resume_and_stop(deployment: Any, endpoint_client: Any) -> None:
    """What the sensor and the trigger do when a step fails, is cleared, and is marked failed."""
    from airflow_sagemaker_pipelines.failed_step_logs import log_tail_of_step
    from airflow_sagemaker_pipelines.hooks.pipeline_execution import PipelineExecutionHook

    hook = PipelineExecutionHook(aws_conn_id="aws_default")
    empty_day = f"s3://{deployment.bucket}/raw-data/ds=2099-01-01/"
    arn = hook.start_pipeline(deployment.pipeline_name, "iam-policy", {"InputDataUrl": empty_day},
                              client_request_token="iam-policy-test-0123456789abcdef01234567")
    assert wait_for(endpoint_client("sagemaker"), arn, timeout=120)["PipelineExecutionStatus"] == "Failed"
    log_tail_of_step(hook, arn, "PreprocessData", 5, logging.getLogger("iam-policy-test"))
    assert hook.resume_blocker(arn, {"InputDataUrl": empty_day}) is None
    hook.retry_pipeline_execution(arn, "iam-policy-test-retry-0123456789abcdef0123456")
    hook.stop_pipeline(arn, fail_if_not_running=False)


def watch_new_data(endpoint_client: Any) -> None:
    """What the new-data DAG's asset watcher does when a partition lands: find the queue, read, delete."""
    from airflow_sagemaker_pipelines.triggers.new_partitions import NewPartitionTrigger

    sqs = endpoint_client("sqs")
    url = sqs.create_queue(QueueName=NEW_DATA_QUEUE)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"Records": [{
        "eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"object": {"key": "raw-data/ds=2024-03-01/a"}}}]}))

    async def first_event() -> Any:
        runner = NewPartitionTrigger(queue_name=NEW_DATA_QUEUE, data_prefix="raw-data", wait_time_seconds=1).run()
        event = await anext(runner)
        await runner.aclose()
        return event

    assert asyncio.run(first_event()).payload == {"partitions": {"2024-03-01": ["raw-data/ds=2024-03-01/a"]}}


def test_every_call_airflow_makes_is_allowed_and_the_policy_allows_nothing_else_it_names(
    run_training_dag, deployment, endpoint_client, notifications, airflow_calls, dag_bag, capfd, monkeypatch
) -> None:
    from tests.support.dag_runs import dag_runner
    from tests.support.declarations import CLASSIFICATION

    assert run_training_dag().task_states["approve_model"] == "success"
    settings = json.loads(os.environ["AIRFLOW_VAR_SAGEMAKER_PIPELINES_SETTINGS"])
    monkeypatch.setenv("AIRFLOW_VAR_SAGEMAKER_PIPELINES_SETTINGS", json.dumps(
        {**settings, "endpoint_name": ENDPOINT, "data_capture_percent": 100}))
    runner = dag_runner(dag_bag.dags[CLASSIFICATION.deploy.dag_id], capfd)  # type: ignore[union-attr]
    deployed = next(runner)(conf={"package_version": 1})
    assert deployed.state == "success"
    next(runner, None)
    # The smoke test's requests, captured, checked as yesterday's by the monitoring DAG.
    captured_records(endpoint_client("s3"), deployment.bucket, f"data-capture/{ENDPOINT}/",
                     deployed.xcoms[("smoke_test", "return_value")]["rows"])
    captured_on(endpoint_client("s3"), deployment.bucket, ENDPOINT, datetime.now(UTC).date() - timedelta(days=1))
    runner = dag_runner(dag_bag.dags[CLASSIFICATION.data_quality.monitoring_dag_id], capfd)  # type: ignore[union-attr]
    monitored = next(runner)(day=datetime.now(UTC).date() - timedelta(days=1))
    assert monitored.state == "success" and monitored.note.startswith("**DATA OK**"), monitored.note
    next(runner, None)
    # The day scored with the model trained on it (the only one there is), twice: the second reuses the first's job.
    monkeypatch.setenv("AIRFLOW_VAR_SAGEMAKER_PIPELINES_SETTINGS", json.dumps(
        {**settings, "scoring_name": SCORING, "scoring_uses_same_day_model": True}))
    runner = dag_runner(dag_bag.dags[CLASSIFICATION.scoring.dag_id], capfd)  # type: ignore[union-attr]
    score = next(runner)
    assert score().state == "success"
    endpoint_client("s3").put_object(Bucket=deployment.bucket, Key="scores/ds=2024-03-01/gone.csv", Body=b"x,0.5\n")
    assert score(conf={"model": "champion"}).state == "success"  # and deletes the scores of a file that is gone
    next(runner, None)
    assert run_training_dag(conf={"min_auc_threshold": 0.99}).task_states["reject_model"] == "success"
    fail_a_step_read_its_log_resume_and_stop(deployment, endpoint_client)
    watch_new_data(endpoint_client)
    assert len(executions_of(endpoint_client, deployment.pipeline_name)) == 3

    unknown = sorted({(service, operation) for service, operation, _ in airflow_calls} - set(AUTHORIZED_AS))
    assert unknown == [], f"calls this test cannot map to IAM (add them here and to {POLICY.name}): {unknown}"
    requests = [request for service, operation, parameters in airflow_calls
                for request in AUTHORIZED_AS[(service, operation)](parameters)]
    assert {action for action, _, _ in requests} >= {"sagemaker:CreatePipeline", "iam:PassRole", "s3:PutObject",
                                                     "sagemaker:UpdateModelPackage", "sns:Publish", "logs:GetLogEvents",
                                                     "sagemaker:RetryPipelineExecution", "sagemaker:CreateModel",
                                                     "sagemaker:CreateEndpoint", "sagemaker:InvokeEndpoint",
                                                     "sagemaker:CreateTransformJob", "s3:DeleteObject",
                                                     "sqs:ReceiveMessage", "sqs:DeleteMessage",
                                                     "sagemaker:CreateProcessingJob"}
    policy = policy_for(deployment, notifications["topic_arn"])
    iam = endpoint_client("iam")
    refused = {request: decision for request, decision in decisions(iam, policy, requests).items()
               if decision != "allowed"}
    assert refused == {}

    # And the policy is no wider than it says: what the package never does is refused.
    beyond = [("sagemaker:DeletePipeline", arn("sagemaker", f"pipeline/{deployment.pipeline_name}"), {}),
              ("sagemaker:StartPipelineExecution", arn("sagemaker", "pipeline/another-teams-pipeline"), {}),
              ("s3:PutObject", f"arn:aws:s3:::{deployment.bucket}/raw-data/ds=2024-03-01/x.csv", {}),
              ("iam:PassRole", ROLE_ARN, {"iam:PassedToService": "ec2.amazonaws.com"}),
              ("sagemaker:UpdateModelPackage", arn("sagemaker", "model-package/another-group/1"), {}),
              ("sagemaker:UpdateEndpoint", arn("sagemaker", "endpoint/another-teams-endpoint"), {}),
              ("sagemaker:InvokeEndpoint", arn("sagemaker", "endpoint/another-teams-endpoint"), {}),
              ("sagemaker:CreateTransformJob", arn("sagemaker", "transform-job/another-teams-job"), {}),
              ("s3:DeleteObject", f"arn:aws:s3:::{deployment.bucket}/raw-data/ds=2024-03-01/dataset.csv", {}),
              ("sqs:ReceiveMessage", arn("sqs", "another-teams-queue"), {}),
              ("sqs:SendMessage", arn("sqs", NEW_DATA_QUEUE), {}),
              ("sagemaker:CreateProcessingJob", arn("sagemaker", "processing-job/another-teams-job"), {}),
              ("s3:GetObject", f"arn:aws:s3:::{deployment.bucket}/data-capture/another-teams-endpoint/x.jsonl", {})]
    assert set(decisions(iam, policy, beyond).values()) == {"implicitDeny"}
    json.loads(policy)  # what `aws iam create-policy --policy-document` reads
