"""Every status botocore knows for executions and steps is classified, once; an unknown one is named, not waited on."""

from __future__ import annotations

import botocore.session
import pytest
from airflow_sagemaker_pipelines import statuses
from airflow_sagemaker_pipelines.statuses import UnknownStatusError, execution_outcome


def botocore_enum(shape: str) -> set[str]:
    model = botocore.session.get_session().get_service_model("sagemaker")
    return set(model.shape_for(shape).enum)


def test_every_execution_status_botocore_knows_is_running_or_ended() -> None:
    known = botocore_enum("PipelineExecutionStatus")
    assert known == statuses.EXECUTION_RUNNING | statuses.EXECUTION_ENDED, (
        "botocore's PipelineExecutionStatus changed: classify the new values in statuses.py")
    assert not statuses.EXECUTION_RUNNING & statuses.EXECUTION_ENDED
    assert {status: execution_outcome(status) for status in known} == {
        "Executing": "running", "Stopping": "running", "Succeeded": "succeeded",
        "Failed": "unsuccessful", "Stopped": "unsuccessful", "CompletedWithFailures": "unsuccessful"}


def test_every_step_status_botocore_knows_is_running_or_ended() -> None:
    assert botocore_enum("StepStatus") == statuses.STEP_RUNNING | statuses.STEP_ENDED, (
        "botocore's StepStatus changed: classify the new values in statuses.py")
    assert not statuses.STEP_RUNNING & statuses.STEP_ENDED


def test_only_failed_and_stopped_executions_can_be_resumed() -> None:
    assert statuses.EXECUTION_RESUMABLE == {"Failed", "Stopped"} < statuses.EXECUTION_UNSUCCESSFUL


def test_an_unknown_status_is_an_error_that_names_it() -> None:
    with pytest.raises(UnknownStatusError, match="status 'Paused', which this package does not know"):
        execution_outcome("Paused")
