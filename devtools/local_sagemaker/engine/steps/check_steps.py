"""QualityCheck steps (CheckType DATA_QUALITY): a baselining job, and a drift check against the previous baseline.

As AWS describes it ("Baseline calculation, drift detection and lifecycle with ClarifyCheck and
QualityCheck steps in Amazon SageMaker Pipelines", pipelines-quality-clarify-baseline-lifecycle):
the step always runs its processing job (the step's Arguments: Model Monitor's analyzer, the
request SDK v3's QualityCheckStep builds) on its dataset, which gives CalculatedBaselineStatistics
and CalculatedBaselineConstraints. The previous baseline is the one supplied
(SuppliedBaselineStatistics/Constraints, "always prioritized") or else the DriftCheckBaselines
ModelDataQuality of the latest Approved model package of ModelPackageGroupName. Unless SkipCheck,
the same job checks the data against it (the analyzer's `baseline_constraints` and
`baseline_statistics`, as a monitoring execution gives them), and violations fail the step when
FailOnViolation. BaselineUsedForDriftCheck* is the calculated baseline when RegisterNewBaseline,
else the previous one. The step's Metadata is QualityCheckStepMetadata.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from ..errors import DefinitionError, StepFailure
from ..jobs.kinds import PROCESSING
from ..jobs.processing import processing_request, run_processing_job
from ..outcome import StepOutcome
from ..s3_transfer import join_uri
from .step_runtime import StepRuntime

CHECK_TYPES = ("DATA_QUALITY", "MODEL_QUALITY")
# Where a monitoring execution puts the baseline files (SDK ModelMonitor's container contract).
BASELINE_CONSTRAINTS_PATH = "/opt/ml/processing/baseline/constraints"
BASELINE_STATISTICS_PATH = "/opt/ml/processing/baseline/stats"
VIOLATIONS_FILE = "constraint_violations.json"


def check_quality_check_step(step: Any) -> None:
    """CreatePipeline's checks: a CheckType SageMaker knows."""
    check_type = step.raw.get("CheckType")
    if check_type not in CHECK_TYPES:
        raise DefinitionError(f"Step '{step.name}' has CheckType {check_type!r}: a QualityCheck step's CheckType is "
                              f"one of {', '.join(CHECK_TYPES)}")


def run_quality_check_step(runtime: StepRuntime) -> StepOutcome:
    raw = runtime.step.raw
    fields = runtime.resolve({key: raw.get(key) for key in (
        "CheckType", "ModelPackageGroupName", "SkipCheck", "FailOnViolation", "RegisterNewBaseline",
        "SuppliedBaselineStatistics", "SuppliedBaselineConstraints")})
    if fields["CheckType"] != "DATA_QUALITY":
        raise StepFailure(f"QualityCheck CheckType {fields['CheckType']} is not emulated by the local endpoint: "
                          "its analyzer runs data-quality checks only (DataQualityCheckConfig)")
    skip_check = _flag(fields["SkipCheck"], "SkipCheck", default=False)
    fail_on_violation = _flag(fields["FailOnViolation"], "FailOnViolation", default=True)
    register_new_baseline = _flag(fields["RegisterNewBaseline"], "RegisterNewBaseline", default=False)
    group = fields["ModelPackageGroupName"] or None

    previous = _previous_baseline(runtime, fields["SuppliedBaselineStatistics"], fields["SuppliedBaselineConstraints"], group)
    # QualityCheckStepMetadata (the API reference): SkipCheck "If it is set to False, the previous baseline of
    # the configured check type must be available"; RegisterNewBaseline "If it is set to False, the previous
    # baseline of the configured check type must also be available". The lifecycle guide's table lists the
    # first run of a pipeline under SkipCheck True / RegisterNewBaseline True; the step does not skip the
    # check by itself, so without a baseline it fails, saying how to start one.
    if not any(previous.values()) and (not skip_check or not register_new_baseline):
        needed = "SkipCheck is False" if not skip_check else "RegisterNewBaseline is False"
        raise StepFailure(
            f"ClientError: {needed}, so the QualityCheck step needs a previous DATA_QUALITY baseline, and there is none: "
            "no SuppliedBaselineStatistics/SuppliedBaselineConstraints, and "
            + (f"no Approved model package in group '{group}' with DriftCheckBaselines.ModelDataQuality"
               if group else "no ModelPackageGroupName")
            + ". For a first run set SkipCheck and RegisterNewBaseline to True")

    arguments = runtime.arguments()
    request = processing_request(arguments)
    checking = not skip_check
    if checking:
        request = _with_baseline(request, previous)
    job = runtime.new_job(PROCESSING, request)
    description, _ = run_processing_job(job)
    output = _output_uri(request)
    calculated = {"Statistics": join_uri(output, "statistics.json"), "Constraints": join_uri(output, "constraints.json")}
    used = calculated if register_new_baseline else previous
    violations = checking and str(description.get("ExitMessage", "")).startswith("CompletedWithViolations")
    violation_report = join_uri(output, VIOLATIONS_FILE) if violations else None

    properties = {
        "CalculatedBaselineStatistics": calculated["Statistics"],
        "CalculatedBaselineConstraints": calculated["Constraints"],
        "BaselineUsedForDriftCheckStatistics": used["Statistics"],
        "BaselineUsedForDriftCheckConstraints": used["Constraints"],
    }
    metadata = {key: value for key, value in {
        "CheckType": "DATA_QUALITY", **properties, "ModelPackageGroupName": group, "ViolationReport": violation_report,
        "CheckJobArn": job.arn, "SkipCheck": skip_check, "RegisterNewBaseline": register_new_baseline,
    }.items() if value is not None}
    runtime.report_metadata({"QualityCheck": metadata})
    if violations and fail_on_violation:
        # The local wording; what AWS reports is a ClientError pointing at the violation report.
        raise StepFailure(f"ClientError: Quality check failed: violations were detected against the baseline. "
                          f"See the violation report at {violation_report}")
    return StepOutcome({key: value for key, value in properties.items() if value is not None},
                       {"QualityCheck": metadata})


def _flag(value: Any, name: str, *, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "false"):
        return str(value).lower() == "true"
    raise StepFailure(f"QualityCheck {name} must be true or false, got {value!r}")


def _previous_baseline(runtime: StepRuntime, statistics: str | None, constraints: str | None,
                       group: str | None) -> dict[str, str | None]:
    """The supplied files, each taking priority; the rest from the latest Approved package of `group`."""
    previous: dict[str, str | None] = {"Statistics": statistics or None, "Constraints": constraints or None}
    if group and not all(previous.values()):
        registered = _registered_baseline(runtime, group)
        for key in previous:
            previous[key] = previous[key] or registered.get(key)
    return previous


def _registered_baseline(runtime: StepRuntime, group: str) -> dict[str, str]:
    sagemaker = runtime.context.clients.sagemaker
    try:
        listed = sagemaker.list_model_packages(ModelPackageGroupName=group, ModelApprovalStatus="Approved",
                                               SortBy="CreationTime", SortOrder="Descending", MaxResults=1)
        summaries = listed.get("ModelPackageSummaryList") or []
        if not summaries:
            return {}
        package = sagemaker.describe_model_package(ModelPackageName=summaries[0]["ModelPackageArn"])
    except ClientError as error:
        raise StepFailure(f"{error.response['Error'].get('Code')}: {error.response['Error'].get('Message')}") from None
    quality = (package.get("DriftCheckBaselines") or {}).get("ModelDataQuality") or {}
    return {key: quality[key]["S3Uri"] for key in ("Statistics", "Constraints") if (quality.get(key) or {}).get("S3Uri")}


def _with_baseline(request: dict[str, Any], previous: dict[str, str | None]) -> dict[str, Any]:
    """The baselining request turned into a check: the baseline files as inputs, their paths in the environment."""
    inputs = list(request.get("ProcessingInputs") or [])
    environment = dict(request.get("Environment") or {})
    for key, input_name, local_path, variable in (
            ("Constraints", "constraints", BASELINE_CONSTRAINTS_PATH, "baseline_constraints"),
            ("Statistics", "baseline", BASELINE_STATISTICS_PATH, "baseline_statistics")):
        uri = previous[key]
        if not uri:
            continue
        inputs.append({"InputName": input_name, "S3Input": {"S3Uri": uri, "LocalPath": local_path,
                                                             "S3DataType": "S3Prefix", "S3InputMode": "File"}})
        environment[variable] = f"{local_path}/{uri.rstrip('/').rsplit('/', 1)[-1]}"
    return {**request, "ProcessingInputs": inputs, "Environment": environment}


def _output_uri(request: dict[str, Any]) -> str:
    outputs = (request.get("ProcessingOutputConfig") or {}).get("Outputs") or []
    if not outputs:
        raise StepFailure("The QualityCheck step's job has no ProcessingOutput: it needs one for its baseline files")
    return outputs[0]["S3Output"]["S3Uri"]
