"""The API's contract: definition validation, parameters, idempotency, pagination, caching, branches."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.support.pipelines import (
    ROLE,
    create_pipeline,
    definition,
    processing_step,
    put_script,
    steps_by_name,
    unique,
    wait_for,
)


def _condition(name: str, left: object, right: object, kind: str = "GreaterThanOrEqualTo", **extra: object) -> dict:
    return {"Name": name, "Type": "Condition",
            "Arguments": {"Conditions": [{"Type": kind, "LeftValue": left, "RightValue": right}], **extra}}


def _fail(name: str, message: object) -> dict:
    return {"Name": name, "Type": "Fail", "Arguments": {"ErrorMessage": message}}


THRESHOLD = [{"Name": "Threshold", "Type": "Float", "DefaultValue": 0.5},
             {"Name": "Rounds", "Type": "Integer", "DefaultValue": 3},
             {"Name": "Verbose", "Type": "Boolean", "DefaultValue": False},
             {"Name": "Label", "Type": "String", "DefaultValue": "x"}]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{not json", "not valid JSON"),
        (json.dumps({"Version": "2019-01-01", "Steps": [_fail("F", "x")]}), "Version '2019-01-01' is not supported"),
        (definition([{"Name": "X", "Type": "Lambda", "Arguments": {}}]), "unknown Type 'Lambda'"),
        (definition([_fail("A", "x"), {**_fail("B", "y"), "DependsOn": ["A"]}, {**_fail("A2", "z")}]).replace('"A2"', '"A"'), "used more than once"),
        (definition([{**_fail("A", "x"), "DependsOn": ["B"]}, {**_fail("B", "y"), "DependsOn": ["A"]}]), "dependency cycle: A -> B -> A"),
        (definition([{**_fail("A", "x"), "DependsOn": ["Ghost"]}]), "step 'Ghost', which does not exist"),
        (definition([_fail("A", {"Get": "Steps.Ghost.ModelArtifacts.S3ModelArtifacts"})]), "step 'Ghost', which does not exist"),
        (definition([_fail("A", {"Get": "Parameters.Nope"})]), "parameter 'Nope', which is not defined"),
        # SageMaker's own answer to the SDK v2 bug that wrote Not's operand as "Expression".
        (definition([{"Name": "Gate", "Type": "Condition", "Arguments": {"Conditions": [
            {"Type": "Not", "Expression": {"Type": "Equals", "LeftValue": 1, "RightValue": 1}}]}}]),
         "Cannot parse object, unknown property 'Expression'"),
        (definition([{**_fail("B", "y"), "DependsOn": [{"Step": "A", "Trigger": "Sometimes"}]}, _fail("A", "x")]),
         "Trigger 'Sometimes'; allowed: Completed, Failed, Stopped, Any"),
        (definition([{**_fail("A", "x"), "CacheConfig": {"Enabled": True, "ExpireAfter": "30 days"}}]),
         "ExpireAfter '30 days' is not an ISO 8601 duration"),
    ],
    ids=["not-json", "wrong-version", "unknown-type", "duplicate-name", "cycle", "missing-depends-on", "missing-step-reference",
         "missing-parameter", "not-with-expression", "unknown-trigger", "bad-expire-after"],
)
def test_invalid_definition_is_refused_naming_the_problem(sagemaker, text: str, expected: str) -> None:
    name = unique("invalid")
    with pytest.raises(ClientError) as raised:
        sagemaker.create_pipeline(PipelineName=name, PipelineDefinition=text, RoleArn=ROLE)
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert expected in raised.value.response["Error"]["Message"]
    with pytest.raises(ClientError):
        sagemaker.describe_pipeline(PipelineName=name)


def test_refused_update_keeps_the_previous_definition(sagemaker) -> None:
    name = create_pipeline(sagemaker, [_fail("F", "first")])
    before = sagemaker.describe_pipeline(PipelineName=name)["PipelineDefinition"]
    with pytest.raises(ClientError, match="dependency cycle"):
        sagemaker.update_pipeline(PipelineName=name, PipelineDefinition=definition(
            [{**_fail("A", "x"), "DependsOn": ["A2"]}, {**_fail("A2", "y"), "DependsOn": ["A"]}]))
    assert sagemaker.describe_pipeline(PipelineName=name)["PipelineDefinition"] == before


def test_false_condition_runs_the_else_branch_only_and_fail_step_ends_execution(sagemaker) -> None:
    message = {"Std:Join": {"On": " ", "Values": ["value", {"Get": "Parameters.Label"}, "is below", {"Get": "Parameters.Threshold"}]}}
    steps = [_condition("Gate", 0.2, {"Get": "Parameters.Threshold"},
                        IfSteps=[_fail("NotTaken", "if branch ran")], ElseSteps=[_fail("TooLow", message)])]
    name = create_pipeline(sagemaker, steps, THRESHOLD)
    arn = sagemaker.start_pipeline_execution(PipelineName=name, PipelineParameters=[{"Name": "Threshold", "Value": "0.9"}])["PipelineExecutionArn"]
    description = wait_for(sagemaker, arn)
    assert description["PipelineExecutionStatus"] == "Failed"
    assert description["FailureReason"] == "value x is below 0.9"
    listed = steps_by_name(sagemaker, arn)
    assert set(listed) == {"Gate", "TooLow"}
    assert listed["Gate"]["Metadata"]["Condition"]["Outcome"] == "False"
    assert listed["TooLow"]["Metadata"]["Fail"]["ErrorMessage"] == "value x is below 0.9"
    assert listed["TooLow"]["StepStatus"] == "Failed"


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        ([{"Name": "Nope", "Value": "1"}], "Parameter 'Nope' is not defined in the pipeline"),
        ([{"Name": "Rounds", "Value": "three"}], "'three' for parameter 'Rounds' is not valid for type Integer"),
        ([{"Name": "Rounds", "Value": "2.5"}], "for parameter 'Rounds' is not valid for type Integer"),
        ([{"Name": "Threshold", "Value": "high"}], "for parameter 'Threshold' is not valid for type Float"),
        ([{"Name": "Verbose", "Value": "yes"}], "for parameter 'Verbose' is not valid for type Boolean"),
    ],
    ids=["unknown", "integer-word", "integer-fraction", "float-word", "boolean-word"],
)
def test_bad_parameter_is_a_validation_exception_naming_it(sagemaker, parameters: list, expected: str) -> None:
    name = create_pipeline(sagemaker, [_fail("F", "x")], THRESHOLD)
    with pytest.raises(ClientError) as raised:
        sagemaker.start_pipeline_execution(PipelineName=name, PipelineParameters=parameters)
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert expected in raised.value.response["Error"]["Message"]
    assert sagemaker.list_pipeline_executions(PipelineName=name)["PipelineExecutionSummaries"] == []


def test_same_client_request_token_gives_back_the_same_execution(sagemaker) -> None:
    name = create_pipeline(sagemaker, [_condition("Gate", 1, 0, IfSteps=[], ElseSteps=[])])
    token = uuid.uuid4().hex
    first = sagemaker.start_pipeline_execution(PipelineName=name, ClientRequestToken=token)["PipelineExecutionArn"]
    again = sagemaker.start_pipeline_execution(PipelineName=name, ClientRequestToken=token)["PipelineExecutionArn"]
    other = sagemaker.start_pipeline_execution(PipelineName=name, ClientRequestToken=uuid.uuid4().hex)["PipelineExecutionArn"]
    assert first == again != other
    summaries = sagemaker.list_pipeline_executions(PipelineName=name)["PipelineExecutionSummaries"]
    assert sorted(s["PipelineExecutionArn"] for s in summaries) == sorted([first, other])


def test_short_token_and_bad_display_name_are_refused(sagemaker) -> None:
    name = create_pipeline(sagemaker, [_fail("F", "x")])
    # botocore checks the length client-side; the endpoint checks it too, as AWS does.
    raw = boto3.client("sagemaker", endpoint_url=sagemaker.meta.endpoint_url, config=Config(parameter_validation=False))
    with pytest.raises(ClientError, match="ClientRequestToken must be 32 to 128"):
        raw.start_pipeline_execution(PipelineName=name, ClientRequestToken="short")
    with pytest.raises(ClientError, match="PipelineExecutionDisplayName 'manual__2024-01-01T00:00:00' is invalid"):
        sagemaker.start_pipeline_execution(PipelineName=name, PipelineExecutionDisplayName="manual__2024-01-01T00:00:00")


def test_step_listing_pages_with_next_token(sagemaker) -> None:
    steps = [_condition(f"Gate{i}", i, 0, IfSteps=[], ElseSteps=[]) for i in range(7)]
    name = create_pipeline(sagemaker, steps)
    arn = sagemaker.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    wait_for(sagemaker, arn)
    names, token, pages = [], None, 0
    while True:
        page = sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=arn, MaxResults=3, **({"NextToken": token} if token else {}))
        names += [step["StepName"] for step in page["PipelineExecutionSteps"]]
        pages += 1
        token = page.get("NextToken")
        if not token:
            break
    assert pages == 3
    assert sorted(names) == sorted(f"Gate{i}" for i in range(7))
    paginator = sagemaker.get_paginator("list_pipeline_execution_steps")
    assert sum(len(p["PipelineExecutionSteps"]) for p in paginator.paginate(PipelineExecutionArn=arn, PaginationConfig={"PageSize": 2})) == 7


def test_cached_step_is_not_rerun_and_says_it_was_a_hit(sagemaker, s3, bucket) -> None:
    script = put_script(s3, bucket, "import pathlib, time; p = pathlib.Path('/opt/ml/processing/output/o'); "
                                    "p.mkdir(parents=True, exist_ok=True); (p / 'stamp').write_text(str(time.time_ns()))")
    output = f"s3://{bucket}/cache/{script}"
    step = processing_step("Cached", bucket, script, outputs={"o": output}, CacheConfig={"Enabled": True, "ExpireAfter": "PT1H"})
    name = create_pipeline(sagemaker, [step])
    first = sagemaker.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    wait_for(sagemaker, first)
    stamp = s3.get_object(Bucket=bucket, Key=f"cache/{script}/stamp")["Body"].read()
    second = sagemaker.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    assert wait_for(sagemaker, second)["PipelineExecutionStatus"] == "Succeeded"
    listed = steps_by_name(sagemaker, second)["Cached"]
    assert listed["CacheHitResult"]["SourcePipelineExecutionArn"] == first
    assert listed["Metadata"] == steps_by_name(sagemaker, first)["Cached"]["Metadata"]
    assert s3.get_object(Bucket=bucket, Key=f"cache/{script}/stamp")["Body"].read() == stamp, "the cached step ran again"
    assert "CacheHitResult" not in steps_by_name(sagemaker, first)["Cached"]


def test_changed_arguments_miss_the_cache(sagemaker, s3, bucket) -> None:
    script = put_script(s3, bucket, "print('ran')")
    step = processing_step("Cached", bucket, script, arguments=[{"Get": "Parameters.Label"}],
                           CacheConfig={"Enabled": True, "ExpireAfter": "P30D"})
    name = create_pipeline(sagemaker, [step], THRESHOLD)
    first = sagemaker.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    wait_for(sagemaker, first)
    second = sagemaker.start_pipeline_execution(PipelineName=name, PipelineParameters=[{"Name": "Label", "Value": "other"}])["PipelineExecutionArn"]
    wait_for(sagemaker, second)
    assert "CacheHitResult" not in steps_by_name(sagemaker, second)["Cached"]


def test_list_pipeline_executions_pages_newest_first(sagemaker) -> None:
    name = create_pipeline(sagemaker, [_condition("Gate", 1, 0, IfSteps=[], ElseSteps=[])])
    arns = [sagemaker.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"] for _ in range(3)]
    first_page = sagemaker.list_pipeline_executions(PipelineName=name, MaxResults=2)
    assert [s["PipelineExecutionArn"] for s in first_page["PipelineExecutionSummaries"]] == arns[::-1][:2]
    rest = sagemaker.list_pipeline_executions(PipelineName=name, MaxResults=2, NextToken=first_page["NextToken"])
    assert [s["PipelineExecutionArn"] for s in rest["PipelineExecutionSummaries"]] == [arns[0]]
