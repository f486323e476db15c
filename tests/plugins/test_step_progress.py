"""Step log lines: one per status change; failures explained in SageMaker's words."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow_sagemaker_pipelines.step_progress import StepProgress, execution_failure

T0 = datetime(2024, 3, 1, 12, 0, 0)


def step(name: str, status: str, seconds: float | None = None, **extra: object) -> dict:
    record = {"StepName": name, "StepStatus": status, "StartTime": T0, **extra}
    if seconds is not None:
        record["EndTime"] = T0 + timedelta(seconds=seconds)
    return record


def test_logs_one_line_per_change_and_nothing_when_nothing_moved() -> None:
    progress = StepProgress()
    job = {"ProcessingJob": {"Arn": "arn:aws:sagemaker:us-east-1:1:processing-job/pipelines-x-preprocessdata-y"}}
    assert progress.changes([step("PreprocessData", "Executing", Metadata=job)]) == [
        "Step PreprocessData: Executing [ProcessingJob preprocessdata-y]"]
    assert progress.changes([step("PreprocessData", "Executing", Metadata=job)]) == []
    lines = progress.changes([step("PreprocessData", "Succeeded", 3.25, Metadata=job), step("TrainModel", "Executing")])
    assert lines == ["Step PreprocessData: Executing -> Succeeded [ProcessingJob preprocessdata-y] after 3.2 s",
                     "Step TrainModel: Executing"]


def test_failed_step_line_carries_its_reason() -> None:
    lines = StepProgress().changes([step("TrainModel", "Failed", 1.0, FailureReason="AlgorithmError: bad data")])
    assert lines == ["Step TrainModel: Failed after 1.0 s: AlgorithmError: bad data"]


def test_failure_names_the_first_failed_step_and_the_execution_reason() -> None:
    steps = [step("PreprocessData", "Succeeded", 1), step("TrainModel", "Failed", 2, FailureReason="OOM",
                                                          Metadata={"TrainingJob": {"Arn": "a/b"}})]
    failure = execution_failure({"PipelineExecutionStatus": "Failed", "FailureReason": "Step failure: TrainModel"}, steps)
    assert (failure.status, failure.reason, failure.failed_step, failure.failed_step_type) == (
        "Failed", "Step failure: TrainModel", "TrainModel", "TrainingJob")


def test_failure_without_any_reason_is_never_unknown_or_a_key_error() -> None:
    failure = execution_failure({"PipelineExecutionStatus": "Failed"}, [])
    assert failure.reason == "SageMaker gave no failure reason" and failure.failed_step is None
    stopped = execution_failure({"PipelineExecutionStatus": "Stopped"}, [step("TrainModel", "Stopped", 1)])
    assert stopped.reason == "stopped before it finished" and stopped.failed_step == "TrainModel"


def test_a_line_names_the_resource_short_enough_for_the_log_view() -> None:
    package = {"RegisterModel": {"Arn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/classification-models/7"}}
    job = {"TrainingJob": {"Arn": "arn:aws:sagemaker:us-east-1:1:training-job/pipelines-3p7ml1ibkf5a-trainmodel-htokxc6cpk"}}
    lines = StepProgress().changes([step("RegisterModel", "Succeeded", 0.2, Metadata=package),
                                    step("TrainModel", "Succeeded", 3.0, Metadata=job)])
    assert lines == ["Step RegisterModel: Succeeded [RegisterModel classification-models/7] after 0.2 s",
                     "Step TrainModel: Succeeded [TrainingJob trainmodel-htokxc6cpk] after 3.0 s"]
