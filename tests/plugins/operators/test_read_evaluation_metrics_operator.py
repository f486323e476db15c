"""ReadEvaluationMetricsOperator in a DAG run, on an execution that evaluated and registered a model."""

from __future__ import annotations

import json
from typing import Any

import pytest
from airflow_sagemaker_pipelines.operators.evaluation import ReadEvaluationMetricsOperator

from tests.support.declarations import AUC, COUNT_PATHS, METRIC_PATHS, PROVENANCE
from tests.support.pipelines import (
    XGBOOST_IMAGE,
    create_pipeline,
    processing_step,
    put_script,
    unique,
    wait_for,
)
from tests.support.template_fields import assert_template_fields_are_constructor_attributes


def evaluating_pipeline(endpoint_client, bucket: str, report: str, register: bool = True) -> str:
    """Evaluate (writes evaluation.json as the pipeline's evaluation step does) -> Register."""
    s3, sagemaker = endpoint_client("s3"), endpoint_client("sagemaker")
    prefix = unique("evaluated")
    source = ("import pathlib\nout = pathlib.Path('/opt/ml/processing/output/evaluation')\n"
              f"out.mkdir(parents=True, exist_ok=True)\n(out / 'evaluation.json').write_text({report!r})\n")
    evaluate = processing_step("Evaluate", bucket, put_script(s3, bucket, source),
                               outputs={"evaluation": f"s3://{bucket}/{prefix}/evaluation"})
    steps = [evaluate]
    if register:
        steps.append({"Name": "Register", "Type": "RegisterModel", "DependsOn": ["Evaluate"], "Arguments": {
            "ModelPackageGroupName": unique("group"),
            "InferenceSpecification": {"Containers": [{"Image": XGBOOST_IMAGE}], "SupportedContentTypes": ["text/csv"],
                                       "SupportedResponseMIMETypes": ["text/csv"]},
            "ModelApprovalStatus": "PendingManualApproval",
            "CustomerMetadataProperties": {"DataDay": "2024-03-01", "PipelineVersion": "v9",
                                           "DataFingerprint": "unrecorded"},
            "ModelMetrics": {"ModelQuality": {"Statistics": {
                "ContentType": "application/json", "S3Uri": f"s3://{bucket}/{prefix}/evaluation/evaluation.json"}}},
        }})
    name = create_pipeline(sagemaker, steps)
    arn = sagemaker.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    assert wait_for(sagemaker, arn)["PipelineExecutionStatus"] == "Succeeded"
    return arn


def read_in_a_run(run_tasks, arn: str, gate_failed: bool = False):
    def build() -> None:
        from airflow.sdk import task

        @task(multiple_outputs=True)
        def wait() -> dict[str, Any]:
            return {"execution_arn": arn, "execution_status": "Failed" if gate_failed else "Succeeded",
                    "failure_reason": "Model AUC 0.6 is below 0.9" if gate_failed else None,
                    "failed_step": None, "failed_step_type": None, "gate_failed": gate_failed}

        read_task(wait())

    return run_tasks(build)


def read_task(execution: Any, retries: int = 0) -> ReadEvaluationMetricsOperator:
    return ReadEvaluationMetricsOperator(
        task_id="read_metrics", execution=execution, evaluation_step="Evaluate", evaluation_output="evaluation",
        report_file="evaluation.json", register_step="Register", metric=AUC, metric_paths=METRIC_PATHS, count_paths=COUNT_PATHS,
        provenance_keys=PROVENANCE, retries=retries)


GOOD_REPORT = json.dumps({"classification_metrics": {"auc_roc": {"value": 0.81}, "f1": {"value": 0.5}},
                          "rows": {"test": 300}})


def test_reads_the_metrics_the_package_and_what_the_package_records(run_tasks, aws_default_connection,
                                                                     endpoint_client, bucket) -> None:
    arn = evaluating_pipeline(endpoint_client, bucket, GOOD_REPORT)
    result = read_in_a_run(run_tasks, arn)
    evaluation = result.xcoms[("read_metrics", "return_value")]
    assert evaluation["metrics"] == {"auc": 0.81, "f1": 0.5, "test_rows": 300}
    assert evaluation["report_uri"].endswith("/evaluation/evaluation.json")
    assert evaluation["model_package_arn"].startswith("arn:aws:sagemaker:us-east-1:123456789012:model-package/")
    # "unrecorded" is what a package holds when the run did not send it: read as None, never guessed
    assert evaluation["provenance"] == {"data_day": "2024-03-01", "pipeline_version": "v9", "data_fingerprint": None}
    assert evaluation["gate_failure_reason"] is None


def test_a_gate_verdict_is_passed_on_with_its_reason(run_tasks, aws_default_connection, endpoint_client,
                                                      bucket) -> None:
    arn = evaluating_pipeline(endpoint_client, bucket, GOOD_REPORT, register=False)
    result = read_in_a_run(run_tasks, arn, gate_failed=True)
    assert result.xcoms[("read_metrics", "gate_failure_reason")] == "Model AUC 0.6 is below 0.9"
    assert result.xcoms[("read_metrics", "model_package_arn")] is None


@pytest.mark.parametrize(("report", "message"), [
    ('{"classification_metrics": {"auc_roc": {"value": NaN}}}', "classification_metrics.auc_roc.value is nan"),
    ("{}", "no classification_metrics.auc_roc.value in the evaluation report"),
])
def test_a_bad_report_fails_at_once_naming_the_file(run_tasks, aws_default_connection, endpoint_client, bucket,
                                                    report: str, message: str) -> None:
    arn = evaluating_pipeline(endpoint_client, bucket, report)

    def build() -> None:
        from airflow.sdk import task

        @task(multiple_outputs=True)
        def wait() -> dict[str, Any]:
            return {"execution_arn": arn, "execution_status": "Succeeded", "failure_reason": None,
                    "failed_step": None, "failed_step_type": None, "gate_failed": False}

        read_task(wait(), retries=3)

    result = run_tasks(build)
    assert result.task_states["read_metrics"] == "failed"  # not up_for_retry
    assert "/evaluation/evaluation.json: " + message in result.log


def test_provenance_keys_must_be_provenance_fields() -> None:
    with pytest.raises(ValueError, match=r"provenance_keys has unknown fields \['day'\]"):
        ReadEvaluationMetricsOperator(task_id="r", execution={}, evaluation_step="E", evaluation_output="e",
                                      report_file="r.json", register_step="R", metric=AUC, metric_paths=METRIC_PATHS,
                                      provenance_keys={"day": "DataDay"})


def test_template_fields() -> None:
    assert_template_fields_are_constructor_attributes(read_task({}))
