"""Answers the SDK and the provider rely on, as AWS gives them: stop, delete, listings, shapes, errors, IAM."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.support.pipelines import ROLE, XGBOOST_IMAGE, create_pipeline, processing_step, put_script, unique, wait_for

SLEEPER = "import time\ntime.sleep(300)\n"


def _wait_step_status(sagemaker, arn: str, step: str, statuses: tuple[str, ...], timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listed = {s["StepName"]: s for s in sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]}
        if listed.get(step, {}).get("StepStatus") in statuses:
            return listed[step]
        time.sleep(0.1)
    raise TimeoutError(f"step {step} of {arn} never reached {statuses}")


def test_running_execution_is_listed_executing_refuses_delete_and_stops_once(sagemaker, s3, bucket) -> None:
    name = create_pipeline(sagemaker, [processing_step("Sleep", bucket, put_script(s3, bucket, SLEEPER))])
    arn = sagemaker.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    _wait_step_status(sagemaker, arn, "Sleep", ("Executing",))
    summary = sagemaker.list_pipeline_executions(PipelineName=name)["PipelineExecutionSummaries"][0]
    assert summary["PipelineExecutionStatus"] == "Executing"

    with pytest.raises(ClientError) as refused:
        sagemaker.delete_pipeline(PipelineName=name, ClientRequestToken=unique("token").ljust(32, "x"))
    assert refused.value.response["Error"]["Code"] == "ConflictException"
    assert arn in refused.value.response["Error"]["Message"]
    assert sagemaker.describe_pipeline(PipelineName=name)["PipelineName"] == name

    sagemaker.stop_pipeline_execution(PipelineExecutionArn=arn)
    with pytest.raises(ClientError) as second_stop:
        sagemaker.stop_pipeline_execution(PipelineExecutionArn=arn)
    assert second_stop.value.response["Error"]["Code"] == "ValidationException"
    assert "Only pipelines with 'Executing' status can be stopped" in second_stop.value.response["Error"]["Message"]
    assert wait_for(sagemaker, arn, timeout=30)["PipelineExecutionStatus"] == "Stopped"
    assert sagemaker.list_pipeline_executions(PipelineName=name)["PipelineExecutionSummaries"][0]["PipelineExecutionStatus"] == "Stopped"
    sagemaker.delete_pipeline(PipelineName=name, ClientRequestToken=unique("token").ljust(32, "x"))


def test_stopping_a_finished_execution_is_refused_in_the_words_the_provider_recognises(sagemaker, endpoint, monkeypatch) -> None:
    from airflow.providers.amazon.aws.hooks.sagemaker import SageMakerHook

    from devtools.local_airflow.environment import aws_connection_uri_json

    monkeypatch.setenv("AIRFLOW_CONN_LOCAL_ENDPOINT", aws_connection_uri_json(endpoint))

    name = create_pipeline(sagemaker, [{"Name": "Gate", "Type": "Condition", "Arguments": {
        "Conditions": [{"Type": "Equals", "LeftValue": 1, "RightValue": 1}]}}])
    arn = sagemaker.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    assert wait_for(sagemaker, arn)["PipelineExecutionStatus"] == "Succeeded"
    with pytest.raises(ClientError) as refused:
        sagemaker.stop_pipeline_execution(PipelineExecutionArn=arn)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    hook = SageMakerHook(aws_conn_id="local_endpoint")
    assert hook.stop_pipeline(arn, fail_if_not_running=False) == "Succeeded"
    with pytest.raises(ClientError):
        hook.stop_pipeline(arn, fail_if_not_running=True)


def test_model_without_vpc_config_is_described_without_it_and_the_sdk_parses_it(sagemaker, boto_session) -> None:
    from sagemaker.core.resources import Model

    name = unique("model")
    sagemaker.create_model(ModelName=name, ExecutionRoleArn=ROLE,
                           PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": "s3://b/model.tar.gz"})
    assert "VpcConfig" not in sagemaker.describe_model(ModelName=name)
    model = Model.get(model_name=name, session=boto_session, region="us-east-1")
    assert model.model_name == name and model.primary_container.image == XGBOOST_IMAGE


def test_models_are_listed_by_name_and_creation_time_newest_first_a_page_at_a_time(sagemaker) -> None:
    prefix = unique("listed")
    names = [f"{prefix}-{n}" for n in range(3)]
    for name in names:
        sagemaker.create_model(ModelName=name, ExecutionRoleArn=ROLE,
                               PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": "s3://b/model.tar.gz"})
    sagemaker.create_model(ModelName=unique("other"), ExecutionRoleArn=ROLE,
                           PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": "s3://b/model.tar.gz"})

    listed = sagemaker.list_models(NameContains=prefix.upper())["Models"]  # the filter ignores case
    assert [model["ModelName"] for model in listed] == names[::-1]  # newest first, AWS's default
    assert set(listed[0]) == {"ModelName", "ModelArn", "CreationTime"}  # a ModelSummary, not the whole model
    by_name = sagemaker.list_models(NameContains=prefix, SortBy="Name", SortOrder="Ascending")["Models"]
    assert [model["ModelName"] for model in by_name] == names
    first = sagemaker.list_models(NameContains=prefix, MaxResults=2)
    rest = sagemaker.list_models(NameContains=prefix, MaxResults=2, NextToken=first["NextToken"])
    assert [m["ModelName"] for m in first["Models"] + rest["Models"]] == names[::-1] and "NextToken" not in rest
    hour_before = listed[-1]["CreationTime"] - timedelta(hours=1)
    assert len(sagemaker.list_models(NameContains=prefix, CreationTimeAfter=hour_before)["Models"]) == 3
    assert sagemaker.list_models(NameContains=prefix, CreationTimeBefore=hour_before)["Models"] == []


def test_model_package_group_is_deleted_once_it_holds_no_packages(sagemaker) -> None:
    group = unique("group")
    sagemaker.create_model_package_group(ModelPackageGroupName=group)
    package = sagemaker.create_model_package(ModelPackageGroupName=group, InferenceSpecification={
        "Containers": [{"Image": XGBOOST_IMAGE}], "SupportedContentTypes": ["text/csv"],
        "SupportedResponseMIMETypes": ["text/csv"]})["ModelPackageArn"]
    with pytest.raises(ClientError) as refused:
        sagemaker.delete_model_package_group(ModelPackageGroupName=group)
    assert refused.value.response["Error"]["Code"] == "ConflictException"
    sagemaker.delete_model_package(ModelPackageName=package)
    sagemaker.delete_model_package_group(ModelPackageGroupName=group)
    with pytest.raises(ClientError, match="does not exist"):
        sagemaker.describe_model_package_group(ModelPackageGroupName=group)


def test_unimplemented_action_answers_a_json_error_naming_it_at_once(endpoint: str) -> None:
    sent: list[str] = []
    client = boto3.client("sagemaker", endpoint_url=endpoint,
                          config=Config(retries={"mode": "adaptive", "max_attempts": 10}))
    client.meta.events.register("before-send.sagemaker.*", lambda request, **_: sent.append(request.url))
    with pytest.raises(ClientError) as raised:
        client.list_actions()
    error = raised.value.response
    assert error["Error"]["Code"] == "NotImplemented"
    assert "ListActions" in error["Error"]["Message"]
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert len(sent) == 1, "botocore retried the answer"


def test_unimplemented_query_action_answers_an_xml_error(endpoint_client) -> None:
    with pytest.raises(ClientError) as raised:
        endpoint_client("iam").set_security_token_service_preferences(GlobalEndpointTokenVersion="v2Token")
    assert raised.value.response["Error"]["Code"] == "NotImplemented"
    assert "SetSecurityTokenServicePreferences" in raised.value.response["Error"]["Message"]


def _role(iam, policy: dict, name: str | None = None) -> str:
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    role = iam.create_role(RoleName=name or unique("role"), AssumeRolePolicyDocument=trust)["Role"]
    iam.put_role_policy(RoleName=role["RoleName"], PolicyName="inline", PolicyDocument=json.dumps(policy))
    return role["Arn"]


def test_policy_simulator_allows_denies_and_explicitly_denies_as_iam_does(endpoint_client) -> None:
    iam = endpoint_client("iam")
    arn = _role(iam, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::data/pipeline/*"},
        {"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "sagemaker:DeleteModelPackageGroup", "Resource": "*"}]})
    results = iam.simulate_principal_policy(
        PolicySourceArn=arn, ActionNames=["s3:PutObject"],
        ResourceArns=["arn:aws:s3:::data/pipeline/x.csv", "arn:aws:s3:::data/other/x.csv"])["EvaluationResults"]
    assert [r["EvalDecision"] for r in results] == ["allowed", "implicitDeny"]
    results = iam.simulate_principal_policy(
        PolicySourceArn=arn, ActionNames=["sagemaker:CreateTrainingJob", "sagemaker:DeleteModelPackageGroup", "iam:PassRole"]
    )["EvaluationResults"]
    assert {r["EvalActionName"]: r["EvalDecision"] for r in results} == {
        "sagemaker:CreateTrainingJob": "allowed", "sagemaker:DeleteModelPackageGroup": "explicitDeny", "iam:PassRole": "implicitDeny"}
    with pytest.raises(ClientError) as raised:
        iam.simulate_principal_policy(PolicySourceArn="arn:aws:iam::123456789012:role/nobody", ActionNames=["s3:GetObject"])
    assert raised.value.response["Error"]["Code"] == "NoSuchEntity"


def test_sdk_role_validation_passes_a_usable_role_and_refuses_a_narrow_one(endpoint_client, sdk_session, monkeypatch) -> None:
    from sagemaker.core.helper.iam_role_resolver import RoleValidationError, resolve_and_validate_role

    monkeypatch.setenv("SAGEMAKER_VALIDATE_ROLE", "true")
    iam = endpoint_client("iam")
    usable = _role(iam, {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    # A training role is checked for the `*`-resource actions training needs (ecr:GetAuthorizationToken...).
    assert resolve_and_validate_role(provided_role=usable, role_type="training", sagemaker_session=sdk_session) == usable
    narrow = _role(iam, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/*"}]})
    with pytest.raises(RoleValidationError):
        resolve_and_validate_role(provided_role=narrow, role_type="training", sagemaker_session=sdk_session)


def test_jobs_the_endpoint_cannot_run_are_refused_not_passed(sagemaker) -> None:
    with pytest.raises(ClientError) as raised:
        sagemaker.create_compilation_job(
            CompilationJobName=unique("compile"), RoleArn="arn:aws:iam::123456789012:role/SageMakerRole",
            OutputConfig={"S3OutputLocation": "s3://bucket/compiled", "TargetDevice": "ml_m5"},
            StoppingCondition={"MaxRuntimeInSeconds": 60},
        )
    assert raised.value.response["Error"]["Code"] == "NotImplemented"
    assert "compiles no models" in raised.value.response["Error"]["Message"]


@pytest.mark.parametrize(
    ("call", "arguments"),
    [("describe_pipeline", {"PipelineName": "no-such-pipeline"}),
     ("start_pipeline_execution", {"PipelineName": "no-such-pipeline"}),
     ("list_pipeline_executions", {"PipelineName": "no-such-pipeline"}),
     ("describe_pipeline_execution", {"PipelineExecutionArn": "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/nope"}),
     ("list_pipeline_execution_steps", {"PipelineExecutionArn": "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/nope"}),
     ("describe_pipeline_definition_for_execution", {"PipelineExecutionArn": "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/nope"})],
)
def test_unknown_pipeline_or_execution_is_resource_not_found(sagemaker, call: str, arguments: dict[str, str]) -> None:
    with pytest.raises(ClientError) as raised:
        getattr(sagemaker, call)(**arguments)
    assert raised.value.response["Error"]["Code"] == "ResourceNotFound"
    assert "does not exist" in raised.value.response["Error"]["Message"]


def test_pipeline_is_found_by_its_arn_too(sagemaker) -> None:
    name = create_pipeline(sagemaker, [{"Name": "F", "Type": "Fail", "Arguments": {"ErrorMessage": "x"}}])
    arn = sagemaker.describe_pipeline(PipelineName=name)["PipelineArn"]
    assert sagemaker.describe_pipeline(PipelineName=arn)["PipelineName"] == name


def _raw_sagemaker_call(endpoint: str, target: str, body: bytes) -> tuple[int, dict]:
    """A request no SDK would send, as a buggy client or a hand-written script might."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(endpoint + "/", data=body, method="POST", headers={
        "X-Amz-Target": f"SageMaker.{target}", "Content-Type": "application/x-amz-json-1.1",
        "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/sagemaker/aws4_request, "
                         "SignedHeaders=host, Signature=0"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.parametrize(
    ("target", "body", "status", "code", "named"),
    [("DescribeProcessingJob", b"{}", 400, "ValidationException", "'processingJobName'"),
     ("StartPipelineExecution", b'{"ClientRequestToken": "x"}', 400, "ValidationException", "'pipelineName'"),
     ("DescribeEverything", b"{}", 400, "UnknownOperationException", "DescribeEverything")],
    ids=["missing-member", "missing-name", "unknown-operation"],
)
def test_malformed_raw_request_gets_aws_error_naming_what_is_wrong(endpoint, target, body, status, code, named) -> None:
    answered, error = _raw_sagemaker_call(endpoint, target, body)
    assert answered == status and error["__type"] == code
    assert named in (error.get("Message") or error.get("message"))


def test_execution_starts_no_step_until_the_start_call_has_answered(sagemaker) -> None:
    from moto.sagemaker.models import sagemaker_backends

    name = create_pipeline(sagemaker, [{"Name": "Gate", "Type": "Condition", "Arguments": {
        "Conditions": [{"Type": "Equals", "LeftValue": 1, "RightValue": 1}]}}])
    backend = sagemaker_backends["123456789012"]["us-east-1"]
    # What StartPipelineExecution does before its response is written; the responses layer
    # releases the execution once the HTTP response has been sent.
    response, run = backend.start_local_pipeline_execution(name, None, [], None, None, None)
    assert not run.wait(1.0), "the execution ran before its start call answered"
    assert run.status == "Executing" and run.list_steps() == []
    assert sagemaker.describe_pipeline_execution(PipelineExecutionArn=response["PipelineExecutionArn"])["PipelineExecutionStatus"] == "Executing"
    run.release()
    assert run.wait(30) and run.status == "Succeeded"


def test_describing_a_missing_resource_moto_would_trip_on_is_resource_not_found(sagemaker) -> None:
    with pytest.raises(ClientError) as raised:
        sagemaker.describe_auto_ml_job_v2(AutoMLJobName="no-such-job")
    assert raised.value.response["Error"]["Code"] == "ResourceNotFound"
    assert "no-such-job" in raised.value.response["Error"]["Message"]
