"""A run whose execution failed or was stopped can be cleared and succeed: resumed, or started anew."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.support.executions import executions_of, kill_training_job_processes, when_step_starts


def steps_of(endpoint_client, arn: str) -> dict[str, dict]:
    listed = endpoint_client("sagemaker").list_pipeline_execution_steps(PipelineExecutionArn=arn)
    return {step["StepName"]: step for step in listed["PipelineExecutionSteps"]}


def test_a_stopped_execution_is_resumed_when_the_run_is_cleared(run_training_dag, deployment, endpoint_client) -> None:
    sagemaker = endpoint_client("sagemaker")
    run_after = datetime.now(UTC).replace(microsecond=0)
    stop = lambda arn: sagemaker.stop_pipeline_execution(PipelineExecutionArn=arn)  # noqa: E731
    with when_step_starts(deployment.pipeline_name, "TrainModel", stop) as stopped:
        first = run_training_dag(run_after=run_after)
    assert stopped and first.state == "failed" and first.task_states["wait_for_execution"] == "failed"
    assert first.note.startswith("**FAILED** at wait_for_execution · data 2024-03-01: Pipeline execution ")
    # The data-quality check runs beside the preprocessing and training: it may be stopped too, and named first.
    first_line = first.note.splitlines()[0]
    assert "Stopped at step TrainModel" in first_line or "TrainModel Stopped" in first_line, first_line

    cleared = run_training_dag(run_after=run_after)

    assert cleared.run_id == first.run_id and cleared.state == "success", cleared.task_states
    assert cleared.note.startswith("**APPROVED** · data 2024-03-01 · AUC ") and "FAILED" not in cleared.note
    [execution] = executions_of(endpoint_client, deployment.pipeline_name)
    assert execution["PipelineExecutionArn"] == stopped[0] and execution["PipelineExecutionStatus"] == "Succeeded"
    steps = steps_of(endpoint_client, stopped[0])
    assert steps["PreprocessData"]["AttemptCount"] == 1  # what succeeded is kept
    assert steps["TrainModel"]["AttemptCount"] == 2
    assert "resumed with RetryPipelineExecution" in cleared.log


def test_a_step_that_failed_is_retried_in_the_same_execution_when_the_run_is_cleared(
    run_training_dag, deployment, endpoint_client
) -> None:
    run_after = datetime.now(UTC).replace(microsecond=0)
    with when_step_starts(deployment.pipeline_name, "TrainModel", kill_training_job_processes,
                          hold=False) as hit:
        first = run_training_dag(run_after=run_after)
    assert hit and first.task_states["wait_for_execution"] == "failed"
    assert "at step TrainModel" in first.log

    cleared = run_training_dag(run_after=run_after)

    assert cleared.state == "success", cleared.task_states
    [execution] = executions_of(endpoint_client, deployment.pipeline_name)
    assert execution["PipelineExecutionArn"] == hit[0] and execution["PipelineExecutionStatus"] == "Succeeded"
    assert steps_of(endpoint_client, hit[0])["TrainModel"]["AttemptCount"] == 2
    assert cleared.task_states["approve_model"] == "success"


def test_a_repaired_partition_is_trained_on_by_a_new_execution_when_the_run_is_cleared(
    run_training_dag, deployment, endpoint_client
) -> None:
    s3 = endpoint_client("s3")
    prefix = "repaired/ds=2024-03-01/"
    good = s3.get_object(Bucket=deployment.bucket, Key="raw-data/ds=2024-03-01/dataset.csv")["Body"].read()
    s3.put_object(Bucket=deployment.bucket, Key=f"{prefix}dataset.csv", Body=b"a,b\n1,2\n")  # a column is missing
    conf = {"input_data_url": f"s3://{deployment.bucket}/{prefix}"}
    run_after = datetime.now(UTC).replace(microsecond=0)
    first = run_training_dag(conf=conf, run_after=run_after)
    assert first.state == "failed" and "Input data error" in first.log

    s3.put_object(Bucket=deployment.bucket, Key=f"{prefix}dataset.csv", Body=good)
    cleared = run_training_dag(conf=conf, run_after=run_after)

    assert cleared.state == "success", cleared.task_states
    newest, failed = executions_of(endpoint_client, deployment.pipeline_name)
    assert (newest["PipelineExecutionStatus"], failed["PipelineExecutionStatus"]) == ("Succeeded", "Failed")
    assert newest["PipelineExecutionDisplayName"].endswith("-a2")
    assert "the run now sends other values for DataFingerprint" in cleared.log
    package = endpoint_client("sagemaker").describe_model_package(
        ModelPackageName=cleared.xcoms[("read_metrics", "model_package_arn")])
    assert package["CustomerMetadataProperties"]["DataFingerprint"] == cleared.xcoms[("choose_partition",
                                                                                      "data_fingerprint")]


def test_a_cleared_approved_run_reports_once_that_nothing_changed_and_keeps_the_approval(
    run_training_dag, deployment, endpoint_client, received_notifications, monkeypatch
) -> None:
    run_after = datetime.now(UTC).replace(microsecond=0)
    first = run_training_dag(run_after=run_after)
    package_arn = first.xcoms[("read_metrics", "model_package_arn")]
    approved = endpoint_client("sagemaker").describe_model_package(ModelPackageName=package_arn)
    [approval] = received_notifications()
    assert approval["Subject"].startswith("[APPROVED]")

    cleared = run_training_dag(run_after=run_after)

    assert cleared.run_id == first.run_id and cleared.state == "success", cleared.task_states
    assert cleared.xcoms[("decide_model", "decision")]["outcome"] == "unchanged"
    assert cleared.note.startswith("**UNCHANGED** · data 2024-03-01 · AUC ")
    assert "already the approved model" in cleared.note and "no approved model to compare with" not in cleared.note
    [unchanged] = received_notifications()  # one report, saying so: not a second approval
    assert unchanged["Subject"].startswith("[UNCHANGED]")
    package = endpoint_client("sagemaker").describe_model_package(ModelPackageName=package_arn)
    assert (package["ModelApprovalStatus"], package["ApprovalDescription"]) == (
        "Approved", approved["ApprovalDescription"])  # the approval stands as it was made

    monkeypatch.setenv("AIRFLOW_VAR_SAGEMAKER_PIPELINES_REPORT_UNCHANGED", "false")
    again = run_training_dag(run_after=run_after)
    assert again.state == "success" and again.note.startswith("**UNCHANGED**")
    assert received_notifications() == []  # by setting, nothing at all
