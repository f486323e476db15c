"""The classification pipeline end to end on the local endpoint."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest

from devtools.sample_data.partitions import daily_partition
from tests.support.pipeline import upsert_classification_pipeline
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
    assert set(listed) == {"PreprocessData", "TrainModel", "EvaluateModel", "CheckModelQuality", "RegisterModel"}
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
