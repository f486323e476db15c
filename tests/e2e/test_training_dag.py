"""The training DAG end to end on the local endpoint: approve, reject, fail, stop, retry."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from airflow_sagemaker_pipelines.run_report import RunReport

from tests.support.constants import PIPELINE_DAY
from tests.support.executions import executions_of, when_step_starts
from tests.support.registry import register_package

APPROVE_PATH = {"upsert_pipeline": "success", "choose_partition": "success", "choose_baseline": "success",
                "start_execution": "success", "wait_for_execution": "success",
                "read_metrics": "success", "decide_model": "success", "review_model": "success",
                "approve_model": "success", "reject_model": "skipped", "keep_unpromoted": "skipped", "notify": "success"}


def test_good_model_is_approved_and_announced(run_training_dag, deployment, endpoint_client, received_notifications) -> None:
    result = run_training_dag()
    assert result.state == "success", result.task_states
    assert result.task_states == APPROVE_PATH

    [execution] = executions_of(endpoint_client, deployment.pipeline_name)
    assert execution["PipelineExecutionStatus"] == "Succeeded"
    evaluation = result.xcoms[("read_metrics", "return_value")]
    assert 0.6 < evaluation["metrics"]["auc"] <= 1.0
    package = endpoint_client("sagemaker").describe_model_package(ModelPackageName=evaluation["model_package_arn"])
    assert package["ModelApprovalStatus"] == "Approved"
    assert result.run_id in package["ApprovalDescription"]

    [message] = received_notifications()
    assert message["Subject"].startswith("[APPROVED] sagemaker_training_pipeline AUC ")
    report = RunReport.from_message(message["Message"])
    assert report.execution_arn == execution["PipelineExecutionArn"]
    assert report.model_package_arn == evaluation["model_package_arn"] and report.model_package_status == "Approved"
    assert report.console_url.startswith("https://console.aws.amazon.com/sagemaker/home?region=us-east-1#/pipelines/")
    assert report.metrics["auc"] == evaluation["metrics"]["auc"] and report.data_day == "2024-03-01"
    assert result.note.startswith(f"**APPROVED** · data 2024-03-01 · AUC {evaluation['metrics']['auc']:.4f} · "
                                  f"package {deployment.model_package_group}/1 (Approved)")


def test_pipeline_quality_gate_rejection_is_recorded_and_announced_not_a_crash(
    run_training_dag, deployment, endpoint_client, received_notifications
) -> None:
    result = run_training_dag(conf={"min_auc_threshold": 0.99})
    assert result.state == "success", result.task_states
    assert result.task_states["reject_model"] == "success" and result.task_states["approve_model"] == "skipped"

    assert result.note.startswith("**GATE FAILED** · data 2024-03-01 · AUC ")  # a green run that says no
    [execution] = executions_of(endpoint_client, deployment.pipeline_name)
    assert execution["PipelineExecutionStatus"] == "Failed"  # the pipeline's Fail step said no
    summary = result.xcoms[("wait_for_execution", "return_value")]
    assert summary["gate_failed"] and summary["failed_step"] == "ModelQualityTooLow"
    decision = result.xcoms[("decide_model", "decision")]
    assert decision["approval_status"] == "Rejected" and "quality gate" in decision["reason"] and "0.99" in decision["reason"]
    assert result.xcoms[("reject_model", "return_value")]["model_package_arn"] is None

    [message] = received_notifications()
    assert message["Subject"].startswith("[GATE FAILED]")
    assert "MinAucThreshold" in message["Message"]


def test_challenger_worse_than_the_champion_is_rejected(run_training_dag, deployment, endpoint_client) -> None:
    sagemaker = endpoint_client("sagemaker")
    champion = register_package(endpoint_client, deployment.model_package_group, deployment.bucket, 0.97,
                                data_day="2024-02-28")

    result = run_training_dag()
    assert result.state == "success", result.task_states
    assert result.task_states["reject_model"] == "success" and result.task_states["approve_model"] == "skipped"
    decision = result.xcoms[("decide_model", "decision")]
    assert decision["champion_arn"] == champion
    evaluation = result.xcoms[("read_metrics", "return_value")]
    candidate = sagemaker.describe_model_package(ModelPackageName=evaluation["model_package_arn"])
    assert candidate["ModelApprovalStatus"] == "Rejected"
    assert "worse than the approved model" in candidate["ApprovalDescription"]
    assert sagemaker.describe_model_package(ModelPackageName=champion)["ModelApprovalStatus"] == "Approved"


def test_each_package_records_the_day_data_and_pipeline_it_was_trained_on(run_training_dag, deployment,
                                                                          endpoint_client) -> None:
    result = run_training_dag()
    assert result.state == "success", result.task_states
    partition = result.xcoms[("choose_partition", "return_value")]
    pipeline = result.xcoms[("upsert_pipeline", "return_value")]
    package = endpoint_client("sagemaker").describe_model_package(
        ModelPackageName=result.xcoms[("read_metrics", "model_package_arn")])
    assert package["CustomerMetadataProperties"] == {
        "DataDay": "2024-03-01", "DataFingerprint": partition["data_fingerprint"],
        "PipelineVersion": pipeline["pipeline_version"]}
    assert result.xcoms[("read_metrics", "provenance")] == {
        "data_day": "2024-03-01", "data_fingerprint": partition["data_fingerprint"],
        "pipeline_version": pipeline["pipeline_version"]}


def test_a_backfilled_older_day_is_evaluated_but_never_replaces_the_champion(
    run_training_dag, deployment, endpoint_client, seeded_bucket
) -> None:
    from devtools.sample_data.partitions import seed_partitions

    sagemaker = endpoint_client("sagemaker")
    older_day = PIPELINE_DAY - timedelta(days=3)
    seed_partitions(endpoint_client("s3"), seeded_bucket, older_day, older_day)
    latest = run_training_dag()
    champion = latest.xcoms[("read_metrics", "model_package_arn")]
    assert latest.task_states["approve_model"] == "success"
    # The model trained on the older day is registered and recorded even if its AUC is higher.
    backfilled = run_training_dag(day=older_day, conf={"champion_margin": 1.0})
    assert backfilled.state == "success", backfilled.task_states
    assert backfilled.task_states["keep_unpromoted"] == "success" and backfilled.task_states["approve_model"] == "skipped"
    package = sagemaker.describe_model_package(ModelPackageName=backfilled.xcoms[("read_metrics", "model_package_arn")])
    assert package["ModelApprovalStatus"] == "PendingManualApproval"
    assert package["CustomerMetadataProperties"]["DataDay"] == older_day.isoformat()
    assert f"trained on {older_day}, older data than the approved model {champion}" in package["ApprovalDescription"]
    assert sagemaker.describe_model_package(ModelPackageName=champion)["ModelApprovalStatus"] == "Approved"


def test_rerunning_a_day_whose_data_and_pipeline_did_not_change_approves_no_duplicate(
    run_training_dag, deployment, endpoint_client
) -> None:
    first = run_training_dag()
    again = run_training_dag(run_after=datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1))
    assert again.run_id != first.run_id and again.state == "success", again.task_states
    assert again.task_states["keep_unpromoted"] == "success"
    assert "the same data day, data and pipeline version" in again.xcoms[("decide_model", "decision")]["reason"]
    packages = endpoint_client("sagemaker").list_model_packages(
        ModelPackageGroupName=deployment.model_package_group)["ModelPackageSummaryList"]
    assert sorted(p["ModelApprovalStatus"] for p in packages) == ["Approved", "PendingManualApproval"]


def test_failing_step_shows_in_the_task_log_and_sends_a_failure_notification(
    run_training_dag, deployment, endpoint_client, received_notifications
) -> None:
    endpoint_client("s3").put_object(Bucket=deployment.bucket, Key="broken/ds=2024-03-01/data.csv", Body=b"a,b\n1,2\n")
    result = run_training_dag(conf={"input_data_url": f"s3://{deployment.bucket}/broken/ds=2024-03-01/"})
    assert result.state == "failed"
    assert result.task_states["wait_for_execution"] == "failed"
    assert result.task_states["read_metrics"] == "upstream_failed"
    assert result.note.startswith("**FAILED** at wait_for_execution · data 2024-03-01: Pipeline execution ")
    assert "Failed at step PreprocessData" in result.note.splitlines()[0]

    [execution] = executions_of(endpoint_client, deployment.pipeline_name)
    assert execution["PipelineExecutionStatus"] == "Failed"
    log = result.log
    assert re.search(r"Step PreprocessData: (\w+ -> )*Failed", log)  # a fast failure may be the first status seen
    assert re.search(r"Last \d+ lines of pipelines-\w+-PreprocessData-\w+ \(", log)  # copied from CloudWatch Logs
    assert "Input data error" in log
    assert "Unknown" not in log

    [message] = received_notifications()
    assert message["Subject"].startswith("[FAILED] sagemaker_training_pipeline")
    assert "Failed task: wait_for_execution" in message["Message"]
    assert "at step PreprocessData" in message["Message"]
    assert execution["PipelineExecutionArn"] in message["Message"]


def test_execution_stopped_mid_run_fails_the_wait_and_is_announced(
    run_training_dag, deployment, endpoint_client, received_notifications
) -> None:
    sagemaker = endpoint_client("sagemaker")
    stop = lambda arn: sagemaker.stop_pipeline_execution(PipelineExecutionArn=arn)  # noqa: E731
    with when_step_starts(deployment.pipeline_name, "TrainModel", stop) as stopped:
        result = run_training_dag()

    assert stopped, "the execution never reached TrainModel"
    assert result.task_states["wait_for_execution"] == "failed"  # Stopped is not success
    assert sagemaker.describe_pipeline_execution(PipelineExecutionArn=stopped[0])["PipelineExecutionStatus"] == "Stopped"
    assert f"Pipeline execution {stopped[0]} Stopped" in result.log
    [message] = received_notifications()
    assert message["Subject"].startswith("[FAILED]") and "Stopped" in message["Message"]


def test_start_retried_after_a_lost_response_and_a_cleared_run_leave_one_execution(
    run_training_dag, training_dag, deployment, endpoint_client, monkeypatch
) -> None:
    from airflow_sagemaker_pipelines.hooks.pipeline_execution import PipelineExecutionHook
    from botocore.exceptions import ConnectionClosedError

    real_start = PipelineExecutionHook.start_pipeline
    calls: list[str] = []

    def start_then_lose_the_first_response(self, *args, **kwargs):
        arn = real_start(self, *args, **kwargs)
        calls.append(arn)
        if len(calls) == 1:  # SageMaker started it, but the answer never came back
            raise ConnectionClosedError(endpoint_url="http://sagemaker")
        return arn

    monkeypatch.setattr(PipelineExecutionHook, "start_pipeline", start_then_lose_the_first_response)
    start_task = training_dag.get_task("start_execution")
    monkeypatch.setattr(start_task, "retry_delay", timedelta(0))
    monkeypatch.setattr(start_task, "retry_exponential_backoff", False)
    run_after = datetime.now(UTC).replace(microsecond=0)

    first = run_training_dag(run_after=run_after)
    assert first.state == "success", first.task_states
    assert len(calls) == 2 and calls[0] == calls[1]
    assert "Failed to start" not in first.log
    [execution] = executions_of(endpoint_client, deployment.pipeline_name)

    cleared = run_training_dag(run_after=run_after)  # the same run, cleared and run again
    assert cleared.run_id == first.run_id and cleared.state == "success"
    assert executions_of(endpoint_client, deployment.pipeline_name) == [execution]
    assert cleared.xcoms[("start_execution", "return_value")] == execution["PipelineExecutionArn"]


def test_malformed_evaluation_report_fails_clearly_and_approves_nothing(
    run_training_dag, deployment, endpoint_client, received_notifications
) -> None:
    run_after = datetime.now(UTC).replace(microsecond=0)
    first = run_training_dag(run_after=run_after, mark_success_pattern="read_metrics|decide_model|approve_model|reject_model|keep_unpromoted|notify")
    [execution] = executions_of(endpoint_client, deployment.pipeline_name)
    assert execution["PipelineExecutionStatus"] == "Succeeded"
    received_notifications()

    report_key = f"pipeline/executions/{execution['PipelineExecutionArn'].rsplit('/', 1)[1]}/evaluation/evaluation.json"
    endpoint_client("s3").put_object(Bucket=deployment.bucket, Key=report_key,
                         Body=b'{"classification_metrics": {"auc_roc": {"value": NaN}}}')
    second = run_training_dag(run_after=run_after)
    assert second.run_id == first.run_id
    assert second.task_states["read_metrics"] == "failed"
    assert second.task_states["approve_model"] == "upstream_failed"
    assert f"s3://{deployment.bucket}/{report_key}: classification_metrics.auc_roc.value is nan" in second.log

    packages = endpoint_client("sagemaker").list_model_packages(ModelPackageGroupName=deployment.model_package_group)
    assert [p["ModelApprovalStatus"] for p in packages["ModelPackageSummaryList"]] == ["PendingManualApproval"]
    [message] = received_notifications()
    assert message["Subject"].startswith("[FAILED]") and "Failed task: read_metrics" in message["Message"]


def test_run_triggered_without_a_logical_date_trains_on_the_last_complete_day(training_dag, deployment, endpoint_client) -> None:
    run_after = datetime(2024, 3, 2, 6, 0, tzinfo=UTC)  # the seeded day is 2024-03-01
    dag_run = training_dag.test(logical_date=None, run_after=run_after)
    assert str(dag_run.state) == "success"
    [execution] = executions_of(endpoint_client, deployment.pipeline_name)
    parameters = endpoint_client("sagemaker").list_pipeline_parameters_for_execution(
        PipelineExecutionArn=execution["PipelineExecutionArn"])["PipelineParameters"]
    assert {"Name": "InputDataUrl", "Value": f"s3://{deployment.bucket}/raw-data/ds=2024-03-01/"} in parameters
