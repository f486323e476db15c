"""StartPipelineExecutionOperator on the endpoint: one execution per run, resumed or renewed when cleared."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from airflow_sagemaker_pipelines.operators.start_pipeline import StartPipelineExecutionOperator

from tests.support.pipelines import create_pipeline, definition, processing_step, put_script, wait_for
from tests.support.template_fields import assert_template_fields_are_constructor_attributes

PARAMETERS = [{"Name": "Label", "Type": "String", "DefaultValue": "none"}]


def run_context(run_id: str = "manual__2024-03-02T00:00:00+00:00", try_number: int = 1) -> dict:
    """What Airflow hands the task (its XComs land in `pushed`)."""
    pushed: dict = {}
    ti = SimpleNamespace(try_number=try_number, xcom_push=lambda key, value: pushed.__setitem__(key, value))
    return {"dag": SimpleNamespace(dag_id="dag"), "run_id": run_id, "ti": ti, "pushed": pushed}


def start_task(pipeline_name: str, label: str = "a") -> StartPipelineExecutionOperator:
    return StartPipelineExecutionOperator(task_id="start", pipeline_name=pipeline_name, data_day="2024-03-01",
                                          pipeline_params={"Label": label})


@dataclass
class FlakyPipeline:
    name: str
    steps: list
    mend: Callable[[], None]  # after this, its step succeeds


@pytest.fixture
def flaky_pipeline(aws_default_connection, endpoint_client, bucket) -> FlakyPipeline:
    """A pipeline whose one step fails until a flag object exists in S3."""
    s3, sagemaker = endpoint_client("s3"), endpoint_client("sagemaker")
    flag = f"flags/{put_script(s3, bucket, '')}"
    source = (f"import boto3, sys\nfound = boto3.client('s3').list_objects_v2(Bucket='{bucket}', Prefix='{flag}')"
              ".get('KeyCount', 0)\nsys.exit(0 if found else 4)\n")
    steps = [processing_step("Work", bucket, put_script(s3, bucket, source))]
    return FlakyPipeline(create_pipeline(sagemaker, steps, PARAMETERS), steps,
                         lambda: s3.put_object(Bucket=bucket, Key=flag, Body=b"1"))


def test_a_retried_task_gets_the_same_execution_and_another_run_its_own(flaky_pipeline, endpoint_client) -> None:
    name = flaky_pipeline.name
    context = run_context()
    first = start_task(name).execute(context)
    again = start_task(name).execute(run_context(try_number=2))
    other = start_task(name).execute(run_context(run_id="manual__2024-03-03T00:00:00+00:00"))
    assert first == again != other
    execution = endpoint_client("sagemaker").describe_pipeline_execution(PipelineExecutionArn=first)
    assert execution["PipelineExecutionDisplayName"].startswith("ds-2024-03-01-manual-2024-03-02T00-00-00-00-00-")
    assert context["pushed"]["sagemaker_pipeline_execution"]["execution_id"] == first.rsplit("/", 1)[-1]


def test_a_cleared_run_resumes_its_failed_execution(flaky_pipeline, endpoint_client) -> None:
    name = flaky_pipeline.name
    sagemaker = endpoint_client("sagemaker")
    arn = start_task(name).execute(run_context())
    assert wait_for(sagemaker, arn)["PipelineExecutionStatus"] == "Failed"
    flaky_pipeline.mend()

    resumed = start_task(name).execute(run_context(try_number=2))

    assert resumed == arn and wait_for(sagemaker, arn)["PipelineExecutionStatus"] == "Succeeded"
    assert len(sagemaker.list_pipeline_executions(PipelineName=name)["PipelineExecutionSummaries"]) == 1


def test_a_cleared_run_starts_its_next_execution_when_the_pipeline_changed(flaky_pipeline, endpoint_client) -> None:
    name, steps = flaky_pipeline.name, flaky_pipeline.steps
    sagemaker = endpoint_client("sagemaker")
    arn = start_task(name).execute(run_context())
    wait_for(sagemaker, arn)
    steps[0]["Arguments"]["Environment"] = {"FIXED": "1"}
    sagemaker.update_pipeline(PipelineName=name, PipelineDefinition=definition(steps, PARAMETERS))

    renewed = start_task(name).execute(run_context(try_number=2))
    again = start_task(name).execute(run_context(try_number=3))  # a retry finds it, starts no third

    assert renewed != arn and again == renewed
    described = sagemaker.describe_pipeline_execution(PipelineExecutionArn=renewed)
    assert described["PipelineExecutionDisplayName"].endswith("-a2")
    assert len(sagemaker.list_pipeline_executions(PipelineName=name)["PipelineExecutionSummaries"]) == 2


def test_a_cleared_run_with_other_parameters_starts_its_next_execution(flaky_pipeline, endpoint_client) -> None:
    name = flaky_pipeline.name
    sagemaker = endpoint_client("sagemaker")
    arn = start_task(name, label="a").execute(run_context())
    wait_for(sagemaker, arn)
    renewed = start_task(name, label="b").execute(run_context(try_number=2))
    assert renewed != arn
    parameters = sagemaker.list_pipeline_parameters_for_execution(PipelineExecutionArn=renewed)["PipelineParameters"]
    assert {"Name": "Label", "Value": "b"} in parameters


def test_template_fields() -> None:
    assert_template_fields_are_constructor_attributes(start_task("p"))


def test_it_never_waits_nor_defers_whatever_the_dags_defaults_say() -> None:
    from airflow.sdk import DAG

    with DAG("defaults", default_args={"deferrable": True, "wait_for_completion": True}, schedule=None):
        task = StartPipelineExecutionOperator(task_id="start", pipeline_name="p")
    assert (task.deferrable, task.wait_for_completion) == (False, False)


@pytest.mark.parametrize("argument", ["deferrable", "wait_for_completion"])
def test_asking_it_to_wait_is_refused_by_name(argument: str) -> None:
    with pytest.raises(ValueError, match=f"only starts: {argument}=True is not allowed; follow the execution with "
                                         "PipelineExecutionSensor"):
        StartPipelineExecutionOperator(task_id="start", pipeline_name="p", **{argument: True})


def test_a_run_whose_execution_completed_with_failures_starts_its_next_execution_when_cleared(
    aws_default_connection, endpoint_client
) -> None:
    from tests.support.pipelines import steps_completing_with_failures

    sagemaker = endpoint_client("sagemaker")
    name = create_pipeline(sagemaker, steps_completing_with_failures())
    first = StartPipelineExecutionOperator(task_id="start", pipeline_name=name).execute(run_context())
    assert wait_for(sagemaker, first)["PipelineExecutionStatus"] == "CompletedWithFailures"

    cleared = StartPipelineExecutionOperator(task_id="start", pipeline_name=name).execute(run_context(try_number=2))

    assert cleared != first  # it cannot be retried: the run's next execution
    assert sagemaker.describe_pipeline_execution(PipelineExecutionArn=first)["PipelineExecutionStatus"] == \
        "CompletedWithFailures"
