"""RegisterModel and Model steps: calls to the SageMaker registry APIs that moto serves."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from ..errors import StepFailure
from ..outcome import StepOutcome
from .step_runtime import StepRuntime


def _call(runtime: StepRuntime, operation: str, **arguments: Any) -> dict[str, Any]:
    try:
        return getattr(runtime.context.clients.sagemaker, operation)(**arguments)
    except ClientError as error:
        raise StepFailure(f"{error.response['Error'].get('Code')}: {error.response['Error'].get('Message')}") from None
    except Exception as error:
        raise StepFailure(f"{type(error).__name__}: {error}") from None


def run_register_model_step(runtime: StepRuntime) -> StepOutcome:
    """CreateModelPackage in its group; the group is created when missing, as SageMaker does."""
    arguments = runtime.arguments()
    group = arguments.get("ModelPackageGroupName")
    if group:
        try:
            runtime.context.clients.sagemaker.describe_model_package_group(ModelPackageGroupName=group)
        except ClientError:
            _call(runtime, "create_model_package_group", ModelPackageGroupName=group)
    request = {key: value for key, value in arguments.items() if key != "ModelPackageName" or not group}
    arn = _call(runtime, "create_model_package", **request)["ModelPackageArn"]
    properties = _call(runtime, "describe_model_package", ModelPackageName=arn)
    properties.pop("ResponseMetadata", None)
    return StepOutcome(properties, {"RegisterModel": {"Arn": arn}})


def run_model_step(runtime: StepRuntime) -> StepOutcome:
    """CreateModel with a generated name, as the pipeline service names it."""
    arguments = runtime.arguments()
    request = dict(arguments)
    request.setdefault("ModelName", runtime.job_name())
    arn = _call(runtime, "create_model", **request)["ModelArn"]
    return StepOutcome({"ModelName": request["ModelName"], "ModelArn": arn}, {"Model": {"Arn": arn}})
