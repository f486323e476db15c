"""Pipelines other than the article's, end to end on the local endpoint: the regression example (lower RMSE is
better), and a pipeline created elsewhere (with boto3), declared by name, started and followed, never upserted."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from airflow_sagemaker_pipelines.run_report import RunReport

from tests.conftest import PROJECT_ROOT
from tests.support.constants import PIPELINE_DAY, REGION, ROLE_ARN
from tests.support.dag_runs import DagRunResult, dag_runner
from tests.support.declarations import REGRESSION
from tests.support.executions import executions_of


@pytest.fixture
def regression_data(endpoint_session: Any, seeded_bucket: str) -> str:
    from devtools.sample_data.partitions import seed_partitions

    seed_partitions(endpoint_session.client("s3"), seeded_bucket, PIPELINE_DAY, PIPELINE_DAY, pipeline="regression")
    return seeded_bucket


def own_names(request: pytest.FixtureRequest) -> tuple[str, str]:
    """The test's own pipeline name and model package group."""
    name = re.sub(r"[^a-zA-Z0-9]+", "-", request.node.name.removeprefix("test_"))[:40].strip("-")
    return f"dag-{name}", f"models-{name}"


@pytest.fixture
def run_regression_dag(request, dag_bag, capfd, regression_data, monkeypatch) -> Iterator[Any]:
    pipeline_name, group = own_names(request)
    monkeypatch.setenv(f"AIRFLOW_VAR_{REGRESSION.settings_variable.upper()}", json.dumps({
        "bucket": regression_data, "role_arn": ROLE_ARN, "pipeline_name": pipeline_name, "model_package_group": group}))
    runner = dag_runner(dag_bag.dags[REGRESSION.dag_id], capfd)
    yield next(runner), pipeline_name, group
    next(runner, None)


def test_the_regression_example_approves_a_model_by_its_rmse_and_its_gate_refuses_one_above_the_maximum(
    run_regression_dag, endpoint_client, received_notifications
) -> None:
    run, pipeline_name, group = run_regression_dag
    received_notifications()

    approved: DagRunResult = run()
    assert approved.state == "success", approved.task_states
    assert approved.task_states["approve_model"] == "success"
    rmse = approved.xcoms[("read_metrics", "return_value")]["metrics"]["rmse"]
    assert 0 < rmse < REGRESSION.metric.threshold
    assert approved.note.startswith(f"**APPROVED** · data {PIPELINE_DAY} · RMSE {rmse:.4f} · package {group}/1 (Approved)")
    [message] = received_notifications()
    assert message["Subject"].startswith("[APPROVED] regression_training RMSE ")
    assert RunReport.from_message(message["Message"]).metrics["rmse"] == rmse

    refused = run(conf={"max_rmse_threshold": 5})  # the pipeline's own gate: RMSE above the maximum
    assert refused.state == "success", refused.task_states
    assert refused.task_states["reject_model"] == "success" and refused.task_states["approve_model"] == "skipped"
    summary = refused.xcoms[("wait_for_execution", "return_value")]
    assert summary["gate_failed"] and summary["failed_step"] == "ModelErrorTooHigh"
    assert refused.note.startswith("**GATE FAILED**")
    assert [e["PipelineExecutionStatus"] for e in executions_of(endpoint_client, pipeline_name)] == ["Failed",
                                                                                                     "Succeeded"]


def create_pipeline_elsewhere(endpoint_client: Any, name: str, group: str, bucket: str) -> dict:
    """What another team's tooling leaves: the pipeline and its scripts, created with boto3 directly."""
    from airflow_sagemaker_pipelines.compiled_pipeline import CompiledPipeline
    from airflow_sagemaker_pipelines.deployment_settings import pipeline_deployment

    values = {"bucket": bucket, "role_arn": ROLE_ARN, "pipeline_name": name, "model_package_group": group,
              "prefix": "elsewhere"}
    deployment = pipeline_deployment(REGRESSION, values, REGION, "the other team's settings")
    compiled = CompiledPipeline.load(REGRESSION.compiled_definition)
    for script in compiled.scripts(deployment["prefix"]):
        endpoint_client("s3").put_object(Bucket=bucket, Key=script.s3_key, Body=script.local_path.read_bytes())
    sagemaker = endpoint_client("sagemaker")
    sagemaker.create_pipeline(PipelineName=name, RoleArn=ROLE_ARN, PipelineDefinition=compiled.render(
        deployment["template_values"], deployment["parameter_defaults"]))
    return sagemaker.describe_pipeline(PipelineName=name)


def test_a_pipeline_created_elsewhere_is_started_followed_and_decided_on_never_upserted(
    request, tmp_path: Path, capfd, airflow_environment, regression_data, endpoint_client, monkeypatch
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    pipeline_name, group = own_names(request)
    before = create_pipeline_elsewhere(endpoint_client, pipeline_name, group, regression_data)
    folder = tmp_path / "their_model"
    folder.mkdir()
    text = (REGRESSION.folder / "pipeline.toml").read_text().split("[settings.")[0]  # its defaults are its own
    text = text.replace("[pipeline]\n", '[pipeline]\nexisting = true\ndag_id = "their_model_training"\n')
    (folder / "pipeline.toml").write_text(text.replace('"ml-regression-pipeline"', f'"{pipeline_name}"').replace(
        '"regression-models"', f'"{group}"'))  # no definition, no compiled.json, no scripts: only the declaration
    monkeypatch.setenv("SAGEMAKER_PIPELINES_FOLDERS", str(tmp_path))  # the team's folder beside the DAG folder
    monkeypatch.setenv("AIRFLOW_VAR_SAGEMAKER_PIPELINES_THEIR_MODEL_SETTINGS", json.dumps({"bucket": regression_data}))
    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"))
    assert bag.import_errors == {}
    dag = bag.dags["their_model_training"]
    assert dag.task_ids[0] == "find_pipeline" and "upsert_pipeline" not in dag.task_ids

    runner = dag_runner(dag, capfd)
    result = next(runner)()
    next(runner, None)

    assert result.state == "success", result.task_states
    found = result.xcoms[("find_pipeline", "return_value")]
    assert found["action"] == "existing" and found["pipeline_name"] == pipeline_name
    assert result.task_states["approve_model"] == "success"
    [execution] = executions_of(endpoint_client, pipeline_name)
    assert execution["PipelineExecutionStatus"] == "Succeeded"
    after = endpoint_client("sagemaker").describe_pipeline(PipelineName=pipeline_name)
    assert after["PipelineDefinition"] == before["PipelineDefinition"]
    assert after["LastModifiedTime"] == before["LastModifiedTime"]  # never updated
    package = result.xcoms[("read_metrics", "return_value")]["model_package_arn"]
    assert f"model-package/{group}/1" in package
