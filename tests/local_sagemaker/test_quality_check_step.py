"""QualityCheck steps built with SDK v3's QualityCheckStep(DataQualityCheckConfig, CheckJobConfig), run on the endpoint.

The step runs Model Monitor's analyzer on its dataset (its calculated baseline) and, unless
SkipCheck, checks the dataset against the previous baseline: the supplied one here. With violations
and FailOnViolation the step fails naming the violation report; BaselineUsedForDriftCheck* follows
RegisterNewBaseline ("Baseline calculation, drift detection and lifecycle with ClarifyCheck and
QualityCheck steps in Amazon SageMaker Pipelines").
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from tests.local_sagemaker.sdk_pipelines import run_sdk_pipeline
from tests.support.pipelines import ROLE, steps_by_name, unique

ROWS = 300
CSV_FORMAT = {"csv": {"header": True, "output_columns_position": "START"}}


def _csv(drift: float = 0.0) -> bytes:
    """age and income columns; `drift` shifts income by that share and more (a baseline_drift_check)."""
    rng = np.random.default_rng(11)
    ages = rng.integers(18, 80, size=ROWS)
    incomes = rng.normal(50_000, 8_000, size=ROWS) * (1 + drift) + drift * 20_000
    lines = ["age,income", *(f"{int(age)},{income:.2f}" for age, income in zip(ages, incomes, strict=True))]
    return ("\n".join(lines) + "\n").encode()


def _put(s3: Any, bucket: str, key: str, body: bytes) -> str:
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    return f"s3://{bucket}/{key}"


def _read(s3: Any, uri: str) -> bytes | None:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    try:
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        return None


def quality_check(sdk_session: Any, dataset: str, output: str, **options: Any) -> Any:
    from sagemaker.mlops.workflow.check_job_config import CheckJobConfig
    from sagemaker.mlops.workflow.quality_check_step import DataQualityCheckConfig, QualityCheckStep

    return QualityCheckStep(
        name="DataQuality",
        quality_check_config=DataQualityCheckConfig(baseline_dataset=dataset, dataset_format=CSV_FORMAT,
                                                    output_s3_uri=output),
        check_job_config=CheckJobConfig(role=ROLE, instance_count=1, instance_type="ml.m5.xlarge",
                                        sagemaker_session=sdk_session),
        **options)


@pytest.fixture(scope="module")
def datasets(s3: Any, bucket: str) -> dict[str, str]:
    prefix = unique("quality-check")
    return {"same": _put(s3, bucket, f"{prefix}/same/data.csv", _csv()),
            "drifted": _put(s3, bucket, f"{prefix}/drifted/data.csv", _csv(drift=0.4))}


@pytest.fixture(scope="module")
def first_run(sagemaker: Any, sdk_session: Any, bucket: str, datasets: dict[str, str]) -> dict[str, Any]:
    """A first run: SkipCheck and RegisterNewBaseline, as AWS's guide has it for the initial baseline."""
    output = f"s3://{bucket}/{unique('qc-first')}/results"
    step = quality_check(sdk_session, datasets["same"], output, skip_check=True, register_new_baseline=True)
    _, arn, described = run_sdk_pipeline(sagemaker, sdk_session, [step])
    return {"output": output, "arn": arn, "described": described, "step": steps_by_name(sagemaker, arn)["DataQuality"]}


def test_a_first_run_with_register_new_baseline_computes_and_exposes_the_baseline(first_run, s3) -> None:
    assert first_run["described"]["PipelineExecutionStatus"] == "Succeeded", first_run["step"].get("FailureReason")
    metadata = first_run["step"]["Metadata"]["QualityCheck"]
    statistics, constraints = f"{first_run['output']}/statistics.json", f"{first_run['output']}/constraints.json"
    assert metadata["CalculatedBaselineStatistics"] == statistics
    assert metadata["CalculatedBaselineConstraints"] == constraints
    assert metadata["BaselineUsedForDriftCheckStatistics"] == statistics
    assert metadata["BaselineUsedForDriftCheckConstraints"] == constraints
    assert metadata["SkipCheck"] is True and metadata["RegisterNewBaseline"] is True
    assert "ViolationReport" not in metadata
    assert metadata["CheckJobArn"].split(":processing-job/")[1].startswith("pipelines-")
    features = {feature["name"] for feature in json.loads(_read(s3, constraints))["features"]}
    assert features == {"age", "income"}
    assert json.loads(_read(s3, statistics))["dataset"]["item_count"] == ROWS


def _run_check(sagemaker: Any, sdk_session: Any, bucket: str, dataset: str, baseline: dict[str, str],
               **options: Any) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """A run on `dataset` against the supplied baseline; (output prefix, execution, the step's listing)."""
    output = f"s3://{bucket}/{unique('qc-check')}/results"
    step = quality_check(sdk_session, dataset, output, supplied_baseline_statistics=baseline["statistics"],
                         supplied_baseline_constraints=baseline["constraints"], **options)
    _, arn, described = run_sdk_pipeline(sagemaker, sdk_session, [step])
    return output, described, steps_by_name(sagemaker, arn)["DataQuality"]


@pytest.fixture(scope="module")
def baseline(first_run: dict[str, Any]) -> dict[str, str]:
    return {"statistics": f"{first_run['output']}/statistics.json", "constraints": f"{first_run['output']}/constraints.json"}


def test_drifted_data_against_a_supplied_baseline_fails_the_step_naming_the_violation_report(
        sagemaker, sdk_session, s3, bucket, datasets, baseline) -> None:
    output, described, step = _run_check(sagemaker, sdk_session, bucket, datasets["drifted"], baseline)

    assert described["PipelineExecutionStatus"] == "Failed"
    assert step["StepStatus"] == "Failed"
    report = f"{output}/constraint_violations.json"
    assert report in step["FailureReason"] and step["FailureReason"].startswith("ClientError: ")
    assert step["Metadata"]["QualityCheck"]["ViolationReport"] == report
    violations = json.loads(_read(s3, report))["violations"]
    assert {(item["feature_name"], item["constraint_check_type"]) for item in violations} == {
        ("income", "baseline_drift_check")}


def test_with_fail_on_violation_false_the_step_succeeds_and_the_violations_file_exists(
        sagemaker, sdk_session, s3, bucket, datasets, baseline) -> None:
    output, described, step = _run_check(sagemaker, sdk_session, bucket, datasets["drifted"], baseline,
                                         fail_on_violation=False)

    assert described["PipelineExecutionStatus"] == "Succeeded", step.get("FailureReason")
    metadata = step["Metadata"]["QualityCheck"]
    assert metadata["ViolationReport"] == f"{output}/constraint_violations.json"
    assert "income" in {item["feature_name"] for item in json.loads(_read(s3, metadata["ViolationReport"]))["violations"]}
    # RegisterNewBaseline False: the baseline used for the check carries over; the new one is still calculated.
    assert metadata["BaselineUsedForDriftCheckStatistics"] == baseline["statistics"]
    assert metadata["BaselineUsedForDriftCheckConstraints"] == baseline["constraints"]
    assert metadata["CalculatedBaselineStatistics"] == f"{output}/statistics.json"
    assert _read(s3, metadata["CalculatedBaselineStatistics"]) is not None


def test_undrifted_data_passes_the_check_without_a_violations_file(
        sagemaker, sdk_session, s3, bucket, datasets, baseline) -> None:
    output, described, step = _run_check(sagemaker, sdk_session, bucket, datasets["same"], baseline)

    assert described["PipelineExecutionStatus"] == "Succeeded", step.get("FailureReason")
    assert "ViolationReport" not in step["Metadata"]["QualityCheck"]
    assert _read(s3, f"{output}/constraint_violations.json") is None


def test_skip_check_skips_the_drift_check_of_drifted_data(sagemaker, sdk_session, s3, bucket, datasets, baseline) -> None:
    output, described, step = _run_check(sagemaker, sdk_session, bucket, datasets["drifted"], baseline,
                                         skip_check=True)

    assert described["PipelineExecutionStatus"] == "Succeeded", step.get("FailureReason")
    metadata = step["Metadata"]["QualityCheck"]
    assert metadata["SkipCheck"] is True and "ViolationReport" not in metadata
    assert _read(s3, f"{output}/constraint_violations.json") is None
    assert _read(s3, f"{output}/statistics.json") is not None  # the baseline is still calculated
    assert metadata["BaselineUsedForDriftCheckConstraints"] == baseline["constraints"]


def test_without_any_baseline_a_check_fails_saying_a_previous_baseline_is_needed(
        sagemaker, sdk_session, bucket, datasets) -> None:
    step = quality_check(sdk_session, datasets["same"], f"s3://{bucket}/{unique('qc-none')}/results")
    _, arn, described = run_sdk_pipeline(sagemaker, sdk_session, [step])

    assert described["PipelineExecutionStatus"] == "Failed"
    reason = steps_by_name(sagemaker, arn)["DataQuality"]["FailureReason"]
    assert "needs a previous DATA_QUALITY baseline" in reason and "SkipCheck is False" in reason


def test_later_steps_read_the_steps_baseline_properties(sagemaker, sdk_session, bucket, datasets) -> None:
    from sagemaker.core.workflow.functions import Join
    from sagemaker.mlops.workflow.fail_step import FailStep

    output = f"s3://{bucket}/{unique('qc-props')}/results"
    check = quality_check(sdk_session, datasets["same"], output, skip_check=True, register_new_baseline=True)
    report = FailStep(name="Report", error_message=Join(on=" ", values=[
        check.properties.CalculatedBaselineStatistics, check.properties.BaselineUsedForDriftCheckConstraints]))
    _, _, described = run_sdk_pipeline(sagemaker, sdk_session, [check, report])

    assert described["PipelineExecutionStatus"] == "Failed"
    assert described["FailureReason"] == f"{output}/statistics.json {output}/constraints.json"


def test_the_baseline_of_the_latest_approved_package_of_the_group_is_checked_against(
        sagemaker, sdk_session, bucket, datasets, baseline) -> None:
    group = unique("qc-group")
    sagemaker.create_model_package_group(ModelPackageGroupName=group)
    sagemaker.create_model_package(
        ModelPackageGroupName=group, ModelApprovalStatus="Approved",
        InferenceSpecification={"Containers": [{"Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"}],
                                "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"]},
        DriftCheckBaselines={"ModelDataQuality": {
            "Statistics": {"ContentType": "application/json", "S3Uri": baseline["statistics"]},
            "Constraints": {"ContentType": "application/json", "S3Uri": baseline["constraints"]}}})
    output = f"s3://{bucket}/{unique('qc-group')}/results"
    step = quality_check(sdk_session, datasets["drifted"], output, model_package_group_name=group)
    _, arn, described = run_sdk_pipeline(sagemaker, sdk_session, [step])

    assert described["PipelineExecutionStatus"] == "Failed"
    listed = steps_by_name(sagemaker, arn)["DataQuality"]
    assert f"{output}/constraint_violations.json" in listed["FailureReason"]
    assert listed["Metadata"]["QualityCheck"]["BaselineUsedForDriftCheckStatistics"] == baseline["statistics"]
