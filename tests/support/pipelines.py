"""Small pipeline definitions and scripts that tests run on the endpoint, and waiting for them."""

from __future__ import annotations

import itertools
import json
import time
import uuid
from typing import Any

SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
ROLE = "arn:aws:iam::123456789012:role/SageMakerPipelineRole"
_names = itertools.count()


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_names)}-{uuid.uuid4().hex[:6]}"


def processing_step(name: str, bucket: str, script_key: str, *, inputs: dict[str, Any] | None = None,
                    outputs: dict[str, Any] | None = None, arguments: list[Any] | None = None,
                    environment: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    processing_inputs = [{"InputName": input_name, "S3Input": {"S3Uri": uri, "LocalPath": f"/opt/ml/processing/input/{input_name}",
                                                               "S3DataType": "S3Prefix", "S3InputMode": "File"}}
                         for input_name, uri in (inputs or {}).items()]
    processing_inputs.append({"InputName": "code", "S3Input": {"S3Uri": f"s3://{bucket}/{script_key}",
                                                               "LocalPath": "/opt/ml/processing/input/code",
                                                               "S3DataType": "S3Prefix", "S3InputMode": "File"}})
    step = {
        "Name": name,
        "Type": "Processing",
        "Arguments": {
            "ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 30}},
            "AppSpecification": {"ImageUri": SKLEARN_IMAGE,
                                 "ContainerEntrypoint": ["python3", f"/opt/ml/processing/input/code/{script_key.rsplit('/', 1)[-1]}"],
                                 "ContainerArguments": arguments or []},
            "Environment": environment or {},
            "RoleArn": ROLE,
            "ProcessingInputs": processing_inputs,
            "ProcessingOutputConfig": {"Outputs": [
                {"OutputName": output_name, "S3Output": {"S3Uri": uri, "LocalPath": f"/opt/ml/processing/output/{output_name}",
                                                         "S3UploadMode": "EndOfJob"}}
                for output_name, uri in (outputs or {}).items()]},
        },
    }
    step.update(extra)
    return step


def definition(steps: list[dict[str, Any]], parameters: list[dict[str, Any]] | None = None) -> str:
    return json.dumps({"Version": "2020-12-01", "Metadata": {}, "Parameters": parameters or [], "Steps": steps})


def create_pipeline(sagemaker: Any, steps: list[dict[str, Any]], parameters: list[dict[str, Any]] | None = None,
                    **extra: Any) -> str:
    name = unique("pipeline")
    sagemaker.create_pipeline(PipelineName=name, PipelineDefinition=definition(steps, parameters), RoleArn=ROLE, **extra)
    return name


def put_script(s3: Any, bucket: str, source: str) -> str:
    key = f"scripts/{unique('script')}/script.py"
    s3.put_object(Bucket=bucket, Key=key, Body=source.encode())
    return key


def wait_for(sagemaker: Any, arn: str, timeout: float = 120, statuses: tuple[str, ...] = ("Succeeded", "Failed", "Stopped", "CompletedWithFailures")) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        description = sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)
        if description["PipelineExecutionStatus"] in statuses:
            return description
        if time.monotonic() > deadline:
            raise TimeoutError(f"{arn} still {description['PipelineExecutionStatus']} after {timeout} s")
        time.sleep(0.2)


def steps_by_name(sagemaker: Any, arn: str) -> dict[str, dict[str, Any]]:
    listed = sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=arn, MaxResults=100)["PipelineExecutionSteps"]
    return {step["StepName"]: step for step in listed}


def fail_step(name: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"Name": name, "Type": "Fail", "Arguments": {"ErrorMessage": message}, **extra}


def steps_completing_with_failures() -> list[dict[str, Any]]:
    """Two steps fail and a step runs on each failure: the execution ends CompletedWithFailures."""
    def on_failure_of(step: str) -> dict[str, Any]:
        return {"Name": f"After{step}", "Type": "Condition", "DependsOn": [{"Step": step, "Trigger": "Failed"}],
                "Arguments": {"Conditions": [{"Type": "Equals", "LeftValue": 1, "RightValue": 1}],
                              "IfSteps": [], "ElseSteps": []}}

    return [fail_step("Breaks", "broken on purpose"), fail_step("AlsoBreaks", "broken too"),
            on_failure_of("Breaks"), on_failure_of("AlsoBreaks")]
