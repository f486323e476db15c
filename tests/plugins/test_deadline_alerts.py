"""The late-run alert's parts without a scheduler: the deadline Variable read strictly, and where a late run is."""

from __future__ import annotations

import pytest
from airflow_sagemaker_pipelines.deadline_alerts import DEFAULT_HOURS, _where_the_run_is, deadline_hours
from airflow_sagemaker_pipelines.execution_identity import execution_display_name

from tests.plugins.test_pipeline_execution_trigger import script_pipeline
from tests.support.pipelines import wait_for


@pytest.mark.parametrize(("value", "hours"), [(None, DEFAULT_HOURS), ("", DEFAULT_HOURS), ("6", 6.0), (" 0.5 ", 0.5)])
def test_the_deadline_is_the_variables_hours_or_the_default(value, hours) -> None:
    assert deadline_hours(value) == hours


@pytest.mark.parametrize("value", ["two hours", "0", "-1", "169", "nan"])
def test_a_deadline_that_is_not_hours_is_refused_naming_the_variable(value) -> None:
    with pytest.raises(ValueError) as refused:
        deadline_hours(value)
    assert str(refused.value).startswith(f"Airflow Variable sagemaker_pipelines_deadline_hours={value!r} is invalid: "
                                         "expected the hours a training run may take")


def test_a_late_run_is_placed_at_its_executions_running_step(aws_default_connection, endpoint_client, sagemaker,
                                                             bucket) -> None:
    dag_id, run_id = "sagemaker_training_pipeline", "manual__data-2024-03-01__late"
    pipeline = script_pipeline(endpoint_client, sagemaker, bucket, "import time\ntime.sleep(120)\n")
    assert _where_the_run_is(dag_id, run_id, pipeline, "no_such_variable", "aws_default") == (
        f"no execution of {pipeline} started yet (the run is before start_execution)", None)

    arn = sagemaker.start_pipeline_execution(
        PipelineName=pipeline, PipelineExecutionDisplayName=execution_display_name(dag_id, run_id, "2024-03-01"),
    )["PipelineExecutionArn"]
    try:
        wait_for(sagemaker, arn, statuses=("Executing",))
        where, found = _where_the_run_is(dag_id, run_id, pipeline, "no_such_variable", "aws_default")
        assert found == arn and where == f"execution {arn} is Executing, at step RunScript"
    finally:
        sagemaker.stop_pipeline_execution(PipelineExecutionArn=arn)
