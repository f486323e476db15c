"""The training DAG's data-quality decision end to end on the local endpoint: each day's data is checked against
the champion's baseline; a clean day is approved and registers its own, a drifted one is not approved without a person,
a schema break fails the run naming the column. (A person's answer in the Airflow UI: tests/stack.)"""

from __future__ import annotations

from datetime import date

from airflow_sagemaker_pipelines.run_report import RunReport

from tests.support.constants import PIPELINE_DAY
from tests.support.pipeline import put_day


def test_a_clean_day_is_approved_and_its_model_keeps_the_datas_baseline(
        run_training_dag, deployment, endpoint_client) -> None:
    result = run_training_dag()
    assert result.state == "success", result.task_states
    baseline = result.xcoms[("choose_baseline", "return_value")]
    assert baseline == {"champion_arn": None, "statistics": "", "constraints": "", "skip_check": True}
    quality = result.xcoms[("read_metrics", "return_value")]["data_quality"]
    assert quality["checked"] is False and quality["violations"] == []
    package = endpoint_client("sagemaker").describe_model_package(
        ModelPackageName=result.xcoms[("read_metrics", "return_value")]["model_package_arn"])
    assert package["ModelApprovalStatus"] == "Approved"
    assert package["DriftCheckBaselines"]["ModelDataQuality"]["Statistics"]["S3Uri"] == quality["statistics_uri"]

    again = run_training_dag(conf={"input_data_url": put_day(endpoint_client("s3"), deployment.bucket, "dq-clean",
                                                             PIPELINE_DAY, "drift:age=0", seed=7)})
    assert again.task_states["approve_model"] == "success", again.task_states
    checked = again.xcoms[("read_metrics", "return_value")]["data_quality"]
    assert checked["checked"] is True and checked["violations"] == []
    assert checked["baseline_arn"] == package["ModelPackageArn"]
    assert "DATA DRIFT" not in again.note


def test_a_drifted_day_is_not_auto_approved_and_its_report_names_the_feature_and_its_values(
        run_training_dag, deployment, endpoint_client, received_notifications) -> None:
    champion = run_training_dag()
    assert champion.task_states["approve_model"] == "success", champion.task_states
    champion_package = endpoint_client("sagemaker").describe_model_package(
        ModelPackageName=champion.xcoms[("read_metrics", "return_value")]["model_package_arn"])
    received_notifications()

    drifted = put_day(endpoint_client("s3"), deployment.bucket, "dq-drift", PIPELINE_DAY, "drift:age=3", seed=7)
    # The metric's rules would approve it (any AUC within the margin); the form says auto.
    result = run_training_dag(conf={"input_data_url": drifted, "champion_margin": 1})
    assert result.state == "success", result.task_states

    # Checked against the champion's baseline, not its own data's.
    baseline = result.xcoms[("choose_baseline", "return_value")]
    assert baseline["champion_arn"] == champion_package["ModelPackageArn"] and baseline["skip_check"] is False
    assert baseline["statistics"] == champion_package["DriftCheckBaselines"]["ModelDataQuality"]["Statistics"]["S3Uri"]
    [violation] = result.xcoms[("read_metrics", "return_value")]["data_quality"]["violations"]
    assert (violation["feature"], violation["check"], violation["kind"]) == ("age", "baseline_drift_check", "drift")
    baseline_mean = float(violation["baseline"].split("mean ", 1)[1].split(",", 1)[0])
    current_mean = float(violation["current"].split("mean ", 1)[1].split(",", 1)[0])
    assert current_mean > baseline_mean + 10  # three of its standard deviations (about 6.8 years) up

    # Not approved without a person: kept, not promoted, saying why and how to approve it.
    decision = result.xcoms[("decide_model", "decision")]
    assert decision["outcome"] == "not_promoted"
    assert "violates the champion's data-quality baseline (age)" in decision["reason"]
    assert "approval_mode manual" in decision["reason"]
    assert result.task_states["approve_model"] == "skipped" and result.task_states["keep_unpromoted"] == "success"
    package = endpoint_client("sagemaker").describe_model_package(
        ModelPackageName=result.xcoms[("read_metrics", "return_value")]["model_package_arn"])
    assert package["ModelApprovalStatus"] == "PendingManualApproval"
    first_line = result.note.split("\n", 1)[0]
    assert first_line.startswith("**NOT PROMOTED**") and "DATA DRIFT: age" in first_line
    assert "- age: drift (baseline mean " in result.note

    [told] = received_notifications()
    assert told["Subject"].startswith("[NOT PROMOTED]")
    report = RunReport.from_message(told["Message"])
    assert report.data_quality[0].startswith("age: drift (baseline mean ")
    assert "Data quality violations:\n  age: drift" in told["Message"]


def test_a_schema_break_fails_the_run_naming_the_column(run_training_dag, deployment, endpoint_client) -> None:
    broken = put_day(endpoint_client("s3"), deployment.bucket, "dq-missing", PIPELINE_DAY, "missing:educ", seed=7)
    result = run_training_dag(conf={"input_data_url": broken})
    assert result.task_states["wait_for_execution"] == "failed"
    assert result.task_states["approve_model"] == "upstream_failed"
    assert result.note.startswith("**FAILED** at wait_for_execution") and "missing column(s) educ" in result.note


def test_the_check_is_skipped_when_the_champion_has_no_baseline(run_training_dag, deployment, endpoint_client) -> None:
    from tests.support.registry import register_package

    register_package(endpoint_client, deployment.model_package_group, deployment.bucket, 0.5,
                     data_day=date(2024, 2, 1).isoformat())
    result = run_training_dag()
    baseline = result.xcoms[("choose_baseline", "return_value")]
    assert baseline["skip_check"] is True and baseline["champion_arn"]
    assert "has no data-quality baseline" in result.log
    assert result.task_states["approve_model"] == "success", result.task_states
