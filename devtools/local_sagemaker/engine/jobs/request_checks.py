"""What CreateProcessingJob, CreateTrainingJob and CreateTransformJob refuse at once.

SageMaker checks a request's shape before it creates the job: names, required members, enum
values, S3 URIs, container paths and limits. A refused request is a RequestError in AWS's
wording ("1 validation error detected: Value 'x' at 'trainingJobName' failed to satisfy
constraint: ..."), naming the field and what is allowed: the API answers it as a
ValidationException and creates no job; a pipeline step fails with it. What SageMaker only
finds out when the job runs (an image it cannot pull, an empty S3 prefix) fails the job
instead, with a FailureReason.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ..errors import RequestError

JOB_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
S3_URI = re.compile(r"^(https|s3)://([^/]+)/?(.*)$")
ROLE_ARN = re.compile(r"^arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$")
PROCESSING_PATH = "/opt/ml/processing/"
_ENUMS = {
    "S3DataType": ("ManifestFile", "S3Prefix", "AugmentedManifestFile"),
    "S3InputMode": ("Pipe", "File"),
    "S3UploadMode": ("Continuous", "EndOfJob"),
    "TrainingInputMode": ("Pipe", "File", "FastFile"),
    "CompressionType": ("None", "Gzip"),
    "BatchStrategy": ("MultiRecord", "SingleRecord"),
    "SplitType": ("None", "Line", "RecordIO", "TFRecord"),
    "AssembleWith": ("None", "Line"),
    "JoinSource": ("Input", "None"),
}


def _refuse(value: Any, attribute: str, constraint: str) -> RequestError:
    shown = "null" if value == "null" else f"'{value}'"  # AWS writes a missing member's value unquoted
    return RequestError(
        f"1 validation error detected: Value {shown} at '{attribute}' failed to satisfy constraint: {constraint}"
    )


def _required(request: dict[str, Any], path: str) -> Any:
    value: Any = request
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value in (None, "", [], {}):
        return _missing(path)
    return value


def _missing(path: str) -> Any:
    attribute = ".".join(part[0].lower() + part[1:] for part in path.split("."))
    raise _refuse("null", attribute, "Member must not be null")


def _enum(value: Any, field: str, attribute: str) -> None:
    if value is not None and value not in _ENUMS[field]:
        raise _refuse(value, attribute, f"Member must satisfy enum value set: [{', '.join(_ENUMS[field])}]")


def _s3_uri(value: Any, attribute: str) -> None:
    if not isinstance(value, str) or not S3_URI.match(value):
        raise _refuse(value, attribute, f"Member must satisfy regular expression pattern: {S3_URI.pattern}")


def check_job_name(name: Any, attribute: str) -> None:
    if not isinstance(name, str) or not JOB_NAME.match(name):
        raise _refuse(name, attribute, f"Member must satisfy regular expression pattern: {JOB_NAME.pattern}")


def _role(value: Any, attribute: str) -> None:
    if not isinstance(value, str) or not ROLE_ARN.match(value):
        raise _refuse(value, attribute, "Member must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)")


def _max_runtime(request: dict[str, Any], attribute: str) -> None:
    seconds = (request.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds")
    if seconds is not None and (not isinstance(seconds, int) or seconds < 1):
        raise _refuse(seconds, attribute, "Member must have value greater than or equal to 1")


def check_processing_request(request: dict[str, Any]) -> None:
    check_job_name(request.get("ProcessingJobName"), "processingJobName")
    _required(request, "ProcessingResources.ClusterConfig")
    _required(request, "AppSpecification.ImageUri")
    _role(_required(request, "RoleArn"), "roleArn")
    _max_runtime(request, "stoppingCondition.maxRuntimeInSeconds")
    for index, item in enumerate(request.get("ProcessingInputs") or [], start=1):
        where = f"processingInputs.{index}.member"
        s3_input = item.get("S3Input")
        if not item.get("InputName"):
            raise _refuse("null", f"{where}.inputName", "Member must not be null")
        if s3_input is None:
            continue  # DatasetDefinition inputs fail the job when it runs: the endpoint reads S3 only
        _s3_uri(s3_input.get("S3Uri"), f"{where}.s3Input.s3Uri")
        _local_path(s3_input.get("LocalPath"), f"{where}.s3Input.localPath")
        _enum(s3_input.get("S3DataType"), "S3DataType", f"{where}.s3Input.s3DataType")
        _enum(s3_input.get("S3InputMode"), "S3InputMode", f"{where}.s3Input.s3InputMode")
    for index, output in enumerate((request.get("ProcessingOutputConfig") or {}).get("Outputs") or [], start=1):
        where = f"processingOutputConfig.outputs.{index}.member"
        s3_output = output.get("S3Output")
        if not output.get("OutputName"):
            raise _refuse("null", f"{where}.outputName", "Member must not be null")
        if s3_output is None:
            continue
        _s3_uri(s3_output.get("S3Uri"), f"{where}.s3Output.s3Uri")
        _local_path(s3_output.get("LocalPath"), f"{where}.s3Output.localPath")
        _enum(s3_output.get("S3UploadMode"), "S3UploadMode", f"{where}.s3Output.s3UploadMode")


def _local_path(value: Any, attribute: str) -> None:
    if not isinstance(value, str) or not value.startswith(PROCESSING_PATH):
        raise _refuse(value, attribute, f"Member must be an absolute path that begins with {PROCESSING_PATH}")


def check_training_request(request: dict[str, Any]) -> None:
    check_job_name(request.get("TrainingJobName"), "trainingJobName")
    algorithm = _required(request, "AlgorithmSpecification")
    if not algorithm.get("TrainingImage") and not algorithm.get("AlgorithmName"):
        raise _refuse("null", "algorithmSpecification.trainingImage",
                      "Member must not be null: give a TrainingImage or an AlgorithmName")
    _enum(algorithm.get("TrainingInputMode"), "TrainingInputMode", "algorithmSpecification.trainingInputMode")
    _role(_required(request, "RoleArn"), "roleArn")
    _s3_uri(_required(request, "OutputDataConfig.S3OutputPath"), "outputDataConfig.s3OutputPath")
    _required(request, "ResourceConfig")
    _required(request, "StoppingCondition")
    _max_runtime(request, "stoppingCondition.maxRuntimeInSeconds")
    names = set()
    for index, channel in enumerate(request.get("InputDataConfig") or [], start=1):
        where = f"inputDataConfig.{index}.member"
        name = channel.get("ChannelName")
        if not name:
            raise _refuse("null", f"{where}.channelName", "Member must not be null")
        if name in names:
            raise RequestError(f"Channel names must be unique; '{name}' is given more than once in InputDataConfig")
        names.add(name)
        source = (channel.get("DataSource") or {}).get("S3DataSource")
        if source is None:
            continue  # file-system sources fail the job when it runs: the endpoint reads S3 only
        _s3_uri(source.get("S3Uri"), f"{where}.dataSource.s3DataSource.s3Uri")
        _enum(source.get("S3DataType"), "S3DataType", f"{where}.dataSource.s3DataSource.s3DataType")
        _enum(channel.get("CompressionType"), "CompressionType", f"{where}.compressionType")
        _enum(channel.get("InputMode"), "TrainingInputMode", f"{where}.inputMode")


def check_transform_request(request: dict[str, Any]) -> None:
    check_job_name(request.get("TransformJobName"), "transformJobName")
    _required(request, "ModelName")
    _s3_uri(_required(request, "TransformInput.DataSource.S3DataSource.S3Uri"),
            "transformInput.dataSource.s3DataSource.s3Uri")
    transform_input = request["TransformInput"]
    _enum(transform_input["DataSource"]["S3DataSource"].get("S3DataType"), "S3DataType",
          "transformInput.dataSource.s3DataSource.s3DataType")
    _enum(transform_input.get("SplitType"), "SplitType", "transformInput.splitType")
    _enum(transform_input.get("CompressionType"), "CompressionType", "transformInput.compressionType")
    _s3_uri(_required(request, "TransformOutput.S3OutputPath"), "transformOutput.s3OutputPath")
    _enum(request["TransformOutput"].get("AssembleWith"), "AssembleWith", "transformOutput.assembleWith")
    _enum(request.get("BatchStrategy"), "BatchStrategy", "batchStrategy")
    _enum((request.get("DataProcessing") or {}).get("JoinSource"), "JoinSource", "dataProcessing.joinSource")
    _required(request, "TransformResources.InstanceType")
    payload = request.get("MaxPayloadInMB")
    if payload is not None and (not isinstance(payload, int) or not 0 <= payload <= 100):
        raise _refuse(payload, "maxPayloadInMB", "Member must have value between 0 and 100")


CHECKS: dict[str, Callable[[dict[str, Any]], None]] = {
    "processing": check_processing_request,
    "training": check_training_request,
    "transform": check_transform_request,
}
