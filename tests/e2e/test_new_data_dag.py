"""The new-data DAG end to end on the local endpoint (dag.test(), a day given by hand): it runs the training tasks
on the day, with the execution of that day's scheduled training run, which a second run for the day gets back."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from airflow_sagemaker_pipelines.execution_identity import execution_display_name
from airflow_sagemaker_pipelines.timetables import DataDayTimetable

from tests.support.constants import PIPELINE_DAY
from tests.support.dag_runs import dag_runner
from tests.support.declarations import CLASSIFICATION
from tests.support.executions import executions_of

NEW_DATA_DAG_ID = CLASSIFICATION.events.dag_id  # type: ignore[union-attr]


@pytest.fixture
def run_new_data_dag(dag_bag, capfd) -> Iterator[Any]:
    yield from dag_runner(dag_bag.dags[NEW_DATA_DAG_ID], capfd)


def test_a_new_data_run_trains_the_day_in_its_scheduled_runs_execution_which_the_next_run_gets_back(
        deployment, run_new_data_dag, endpoint_client) -> None:
    day = PIPELINE_DAY.isoformat()
    owner = DataDayTimetable(CLASSIFICATION.cron, timezone="UTC").scheduled_run_id(PIPELINE_DAY)  # type: ignore[arg-type]

    first = run_new_data_dag(conf={"data_day": day})

    assert first.state == "success" and first.task_states["approve_model"] == "success"
    assert first.xcoms[("read_new_partition", "return_value")] == {
        "data_day": day, "keys": [], "other_days": [],
        "execution_of": {"dag_id": CLASSIFICATION.dag_id, "run_id": owner}}
    [execution] = executions_of(endpoint_client, deployment.pipeline_name)
    assert execution["PipelineExecutionDisplayName"] == execution_display_name(CLASSIFICATION.dag_id, owner, day)
    assert f"for {CLASSIFICATION.dag_id} run {owner}" in endpoint_client("sagemaker").describe_pipeline_execution(
        PipelineExecutionArn=execution["PipelineExecutionArn"])["PipelineExecutionDescription"]

    second = run_new_data_dag(conf={"data_day": day})  # the same day announced again

    assert second.state == "success" and second.task_states["approve_model"] == "success"  # unchanged: confirmed
    assert [e["PipelineExecutionArn"] for e in executions_of(endpoint_client, deployment.pipeline_name)] == [
        execution["PipelineExecutionArn"]]


def test_a_new_data_run_with_no_notification_and_no_day_fails_at_once_saying_what_it_needs(
        deployment, run_new_data_dag, endpoint_client) -> None:
    run = run_new_data_dag(conf={"data_day": None})

    assert run.state == "failed" and run.task_states["read_new_partition"] == "failed"
    assert run.task_states["start_execution"] == "upstream_failed"
    assert "No new partition: this run was started neither by an S3 notification nor with a day" in run.log
    assert endpoint_client("sagemaker").list_pipelines(PipelineNamePrefix=deployment.pipeline_name)[
        "PipelineSummaries"] == []  # nothing was upserted, nothing started
