"""The classification pipeline end to end on the local endpoint."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest

from devtools.sample_data.partitions import daily_partition
from tests.support.pipeline import put_day, upsert_classification_pipeline
from tests.support.pipelines import steps_by_name, wait_for


@pytest.fixture(scope="module")
def pipeline(endpoint, pipeline_settings):
    return upsert_classification_pipeline(endpoint, pipeline_settings)


def _start(endpoint_session, pipeline_settings, **parameters: str) -> str:
    sagemaker = endpoint_session.client("sagemaker")
    return sagemaker.start_pipeline_execution(
        PipelineName=pipeline_settings.pipeline_name,
        PipelineParameters=[{"Name": k, "Value": v} for k, v in parameters.items()],
    )["PipelineExecutionArn"]


def test_low_threshold_registers_a_model_whose_metrics_point_at_the_report(endpoint_session, pipeline_settings, pipeline, day_uri) -> None:
    sagemaker, s3 = endpoint_session.client("sagemaker"), endpoint_session.client("s3")
    arn = _start(endpoint_session, pipeline_settings, InputDataUrl=day_uri, MinAucThreshold="0.5")
    assert wait_for(sagemaker, arn, timeout=300)["PipelineExecutionStatus"] == "Succeeded"
    listed = steps_by_name(sagemaker, arn)
    assert set(listed) == {"PreprocessData", "CheckDataQuality", "TrainModel", "EvaluateModel", "CheckModelQuality",
                           "RegisterModel"}
    package = sagemaker.describe_model_package(ModelPackageName=listed["RegisterModel"]["Metadata"]["RegisterModel"]["Arn"])
    assert package["ModelPackageGroupName"] == "classification-models"
    assert package["ModelApprovalStatus"] == "PendingManualApproval"
    report_uri = package["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]
    execution_id = arn.rsplit("/", 1)[-1]
    assert report_uri == f"s3://{pipeline_settings.bucket}/pipeline/executions/{execution_id}/evaluation/evaluation.json"
    report = json.loads(s3.get_object(Bucket=pipeline_settings.bucket, Key=report_uri.split(f"{pipeline_settings.bucket}/", 1)[1])["Body"].read())
    auc = report["classification_metrics"]["auc_roc"]["value"]
    assert 0.6 < auc < 0.95, "the affairs data set gives a realistic, not perfect, AUC"
    assert report["rows"]["test"] == 300
    assert set(report["classification_metrics"]) >= {"accuracy", "precision", "recall", "f1", "confusion_matrix"}


def test_high_threshold_takes_the_fail_branch_with_the_auc_in_the_reason(endpoint_session, pipeline_settings, pipeline, day_uri) -> None:
    sagemaker = endpoint_session.client("sagemaker")
    arn = _start(endpoint_session, pipeline_settings, InputDataUrl=day_uri, MinAucThreshold="0.99")
    description = wait_for(sagemaker, arn, timeout=300)
    assert description["PipelineExecutionStatus"] == "Failed"
    assert description["FailureReason"].startswith("Model AUC 0.")
    assert description["FailureReason"].endswith("is below the MinAucThreshold 0.99")
    listed = steps_by_name(sagemaker, arn)
    assert "RegisterModel" not in listed and listed["ModelQualityTooLow"]["StepStatus"] == "Failed"


def test_malformed_input_fails_preprocessing_naming_the_column(endpoint_session, pipeline_settings, pipeline) -> None:
    sagemaker, s3 = endpoint_session.client("sagemaker"), endpoint_session.client("s3")
    frame = daily_partition(date(2024, 3, 2), rows=100).rename(columns={"educ": "education"})
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    s3.put_object(Bucket=pipeline_settings.bucket, Key="broken/ds=2024-03-02/dataset.csv", Body=buffer.getvalue().encode())
    arn = _start(endpoint_session, pipeline_settings, InputDataUrl=f"s3://{pipeline_settings.bucket}/broken/ds=2024-03-02/")
    assert wait_for(sagemaker, arn, timeout=120)["PipelineExecutionStatus"] == "Failed"
    reason = steps_by_name(sagemaker, arn)["PreprocessData"]["FailureReason"]
    assert "missing column(s) educ" in reason and "unexpected column(s) education" in reason


def _data_check(sagemaker, arn: str) -> dict:
    return steps_by_name(sagemaker, arn)["CheckDataQuality"]


@pytest.fixture(scope="module")
def baseline_package(endpoint_session, pipeline_settings, pipeline) -> dict:
    """A first run (the defaults: no check, this data's baseline registered): the champion-to-be's package."""
    sagemaker, s3 = endpoint_session.client("sagemaker"), endpoint_session.client("s3")
    uri = put_day(s3, pipeline_settings.bucket, "quality", date(2024, 3, 3), rows=600)
    arn = _start(endpoint_session, pipeline_settings, InputDataUrl=uri, MinAucThreshold="0.5")
    assert wait_for(sagemaker, arn, timeout=300)["PipelineExecutionStatus"] == "Succeeded"
    package_arn = steps_by_name(sagemaker, arn)["RegisterModel"]["Metadata"]["RegisterModel"]["Arn"]
    return {"arn": arn, "package": sagemaker.describe_model_package(ModelPackageName=package_arn)}


def _checked_against(endpoint_session, pipeline_settings, package: dict, uri: str) -> str:
    """An execution on `uri` checked against `package`'s drift-check baseline, as the DAG starts it."""
    baseline = package["DriftCheckBaselines"]["ModelDataQuality"]
    return _start(endpoint_session, pipeline_settings, InputDataUrl=uri, MinAucThreshold="0.5",
                  SkipDataQualityCheck="false", RegisterDataQualityBaseline="true",
                  FailOnDataQualityViolation="false",
                  DataQualityBaselineStatistics=baseline["Statistics"]["S3Uri"],
                  DataQualityBaselineConstraints=baseline["Constraints"]["S3Uri"])


def test_a_clean_day_passes_the_check_and_the_package_keeps_its_own_baseline(
        endpoint_session, pipeline_settings, baseline_package) -> None:
    sagemaker, s3 = endpoint_session.client("sagemaker"), endpoint_session.client("s3")
    first = _data_check(sagemaker, baseline_package["arn"])["Metadata"]["QualityCheck"]
    package = baseline_package["package"]
    assert first["SkipCheck"] is True and "ViolationReport" not in first
    assert package["DriftCheckBaselines"]["ModelDataQuality"]["Statistics"]["S3Uri"] == first[
        "CalculatedBaselineStatistics"]
    assert package["ModelMetrics"]["ModelDataQuality"]["Constraints"]["S3Uri"] == first["CalculatedBaselineConstraints"]

    uri = put_day(s3, pipeline_settings.bucket, "quality", date(2024, 3, 4), rows=600)
    arn = _checked_against(endpoint_session, pipeline_settings, package, uri)
    assert wait_for(sagemaker, arn, timeout=300)["PipelineExecutionStatus"] == "Succeeded"
    checked = _data_check(sagemaker, arn)["Metadata"]["QualityCheck"]
    assert checked["SkipCheck"] is False and "ViolationReport" not in checked
    # The new package keeps the baseline of the data it learned from, for the days after it.
    registered = sagemaker.describe_model_package(
        ModelPackageName=steps_by_name(sagemaker, arn)["RegisterModel"]["Metadata"]["RegisterModel"]["Arn"])
    assert registered["DriftCheckBaselines"]["ModelDataQuality"]["Statistics"]["S3Uri"] == checked[
        "CalculatedBaselineStatistics"] != first["CalculatedBaselineStatistics"]


def test_a_drifted_day_is_checked_against_the_champions_baseline_and_reports_the_feature(
        endpoint_session, pipeline_settings, baseline_package) -> None:
    sagemaker, s3 = endpoint_session.client("sagemaker"), endpoint_session.client("s3")
    uri = put_day(s3, pipeline_settings.bucket, "quality", date(2024, 3, 5), "drift:age=3", rows=600)
    arn = _checked_against(endpoint_session, pipeline_settings, baseline_package["package"], uri)
    # Not a crash: the violations are the DAG's to decide on, and the model is registered.
    assert wait_for(sagemaker, arn, timeout=300)["PipelineExecutionStatus"] == "Succeeded"
    checked = _data_check(sagemaker, arn)["Metadata"]["QualityCheck"]
    bucket, _, key = checked["ViolationReport"].removeprefix("s3://").partition("/")
    violations = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())["violations"]
    assert {(v["feature_name"], v["constraint_check_type"]) for v in violations} == {("age", "baseline_drift_check")}
    # Its statistics are the champion's data's (the supplied baseline), not this day's.
    champion = baseline_package["package"]["DriftCheckBaselines"]["ModelDataQuality"]
    job = sagemaker.describe_processing_job(ProcessingJobName=checked["CheckJobArn"].rsplit("/", 1)[-1])
    inputs = {item["InputName"]: item["S3Input"]["S3Uri"] for item in job["ProcessingInputs"]}
    assert inputs["baseline"] == champion["Statistics"]["S3Uri"]
    assert inputs["constraints"] == champion["Constraints"]["S3Uri"]


def test_a_schema_break_is_named_by_the_check_and_fails_the_preprocessing(
        endpoint_session, pipeline_settings, baseline_package) -> None:
    sagemaker, s3 = endpoint_session.client("sagemaker"), endpoint_session.client("s3")
    uri = put_day(s3, pipeline_settings.bucket, "quality", date(2024, 3, 6), "missing:educ", rows=600)
    arn = _checked_against(endpoint_session, pipeline_settings, baseline_package["package"], uri)
    assert wait_for(sagemaker, arn, timeout=300)["PipelineExecutionStatus"] == "Failed"
    listed = steps_by_name(sagemaker, arn)
    assert "missing column(s) educ" in listed["PreprocessData"]["FailureReason"]
    report = listed["CheckDataQuality"]["Metadata"]["QualityCheck"]["ViolationReport"]
    bucket, _, key = report.removeprefix("s3://").partition("/")
    violations = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())["violations"]
    assert ("educ", "missing_column_check") in {(v["feature_name"], v["constraint_check_type"]) for v in violations}


def test_sdk_start_and_wait_run_the_pipeline(endpoint_session, pipeline_settings, pipeline, day_uri) -> None:
    from devtools.pipeline_compiler.compiler import code_uris, load_source, script_digests
    from devtools.pipeline_compiler.sdk_session import pipeline_session
    from tests.support.declarations import CLASSIFICATION

    source = load_source(CLASSIFICATION.folder)

    # The SDK's own Pipeline, built from the source, runs the scripts the upsert uploaded.
    sdk_session = pipeline_session(endpoint_session, pipeline_settings.bucket)
    sdk_pipeline = source.module.build_pipeline(pipeline_settings, sdk_session,
                                                code_uris(pipeline_settings, script_digests(source)))
    execution = sdk_pipeline.start(parameters={"InputDataUrl": day_uri, "MinAucThreshold": 0.5})
    execution.wait(delay=1, max_attempts=300)
    assert execution.describe()["PipelineExecutionStatus"] == "Succeeded"
    assert {step["StepName"] for step in execution.list_steps()} >= {"TrainModel", "RegisterModel"}
