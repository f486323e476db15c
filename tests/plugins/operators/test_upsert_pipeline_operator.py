"""UpsertPipelineOperator in a DAG run, with a declared pipeline's compiled definition and settings, on the local endpoint."""

from __future__ import annotations

import json
import shutil
import uuid
from typing import Any

import pytest
from airflow_sagemaker_pipelines.declarations import PipelineDeclaration, load_declaration
from airflow_sagemaker_pipelines.operators.upsert_pipeline import UpsertPipelineOperator

from tests.support.constants import ROLE_ARN
from tests.support.declarations import CLASSIFICATION
from tests.support.template_fields import assert_template_fields_are_constructor_attributes

VARIABLE = "sagemaker_pipelines_settings_under_test"


def set_settings(monkeypatch: pytest.MonkeyPatch, values: Any) -> None:
    monkeypatch.setenv(f"AIRFLOW_VAR_{VARIABLE.upper()}", values if isinstance(values, str) else json.dumps(values))


@pytest.fixture
def settings_variable(monkeypatch: pytest.MonkeyPatch, seeded_bucket: str) -> dict[str, Any]:
    values = {"bucket": seeded_bucket, "role_arn": ROLE_ARN, "pipeline_name": f"upsert-{uuid.uuid4().hex[:8]}",
              "prefix": f"team-{uuid.uuid4().hex[:6]}/pipelines"}
    set_settings(monkeypatch, values)
    return values


def upsert_task(declaration: PipelineDeclaration = CLASSIFICATION, **kwargs: Any) -> UpsertPipelineOperator:
    return UpsertPipelineOperator(task_id="upsert", declaration=declaration, settings_variable=VARIABLE, **kwargs)


def test_creates_the_pipeline_uploads_its_scripts_then_finds_it_unchanged(run_tasks, settings_variable,
                                                                          endpoint_client) -> None:
    first = run_tasks(lambda: upsert_task())
    again = run_tasks(lambda: upsert_task())

    created, unchanged = first.xcoms[("upsert", "return_value")], again.xcoms[("upsert", "return_value")]
    assert (created["action"], unchanged["action"]) == ("created", "unchanged")
    assert created["pipeline_version"] == unchanged["pipeline_version"] and len(created["pipeline_version"]) == 16
    assert first.xcoms[("upsert", "bucket")] == settings_variable["bucket"]  # one XCom per field
    sagemaker, s3 = endpoint_client("sagemaker"), endpoint_client("s3")
    pipeline = sagemaker.describe_pipeline(PipelineName=settings_variable["pipeline_name"])
    assert pipeline["PipelineArn"] == created["pipeline_arn"] and pipeline["RoleArn"] == ROLE_ARN
    code = [uri for uri in json.dumps(json.loads(pipeline["PipelineDefinition"])).split('"')
            if uri.startswith("s3://") and uri.endswith(".py")]
    assert {uri.rsplit("/", 1)[-1] for uri in code} == {"preprocess.py", "evaluate.py"}
    for uri in code:
        key = uri.split(f"s3://{settings_variable['bucket']}/", 1)[1]
        assert key.startswith(f"{settings_variable['prefix']}/code/")
        local = CLASSIFICATION.folder / "scripts" / key.rsplit("/", 1)[-1]
        assert s3.get_object(Bucket=settings_variable["bucket"], Key=key)["Body"].read() == local.read_bytes()


def test_a_changed_setting_updates_the_pipeline(run_tasks, settings_variable, monkeypatch, endpoint_client) -> None:
    run_tasks(lambda: upsert_task())
    set_settings(monkeypatch, {**settings_variable, "min_auc_threshold": 0.81})

    updated = run_tasks(lambda: upsert_task()).xcoms[("upsert", "return_value")]

    assert updated["action"] == "updated"
    definition = json.loads(endpoint_client("sagemaker").describe_pipeline(
        PipelineName=settings_variable["pipeline_name"])["PipelineDefinition"])
    assert {p["Name"]: p["DefaultValue"] for p in definition["Parameters"]}["MinAucThreshold"] == 0.81


def test_the_tasks_region_chooses_the_images(run_tasks, settings_variable, endpoint_client) -> None:
    result = run_tasks(lambda: upsert_task(region_name="eu-west-1"))

    assert result.task_states["upsert"] == "success" and result.xcoms[("upsert", "region")] == "eu-west-1"
    definition = endpoint_client("sagemaker", region="eu-west-1").describe_pipeline(
        PipelineName=settings_variable["pipeline_name"])["PipelineDefinition"]
    assert ".dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1" in definition and "us-east-1" not in definition


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"bucket": "b-ok", "role_arn": ROLE_ARN, "pipline_name": "x"}, "has unknown keys pipline_name"),
        ({"bucket": "Not_A_Bucket", "role_arn": ROLE_ARN}, "PipelineSettings.bucket='Not_A_Bucket' is invalid"),
        ("not json at all", "is not valid JSON"),
        (None, "is not set: give it a JSON object"),
    ],
)
def test_a_settings_error_fails_at_once_naming_the_key(run_tasks, monkeypatch, value: Any, message: str) -> None:
    if value is None:
        monkeypatch.delenv(f"AIRFLOW_VAR_{VARIABLE.upper()}", raising=False)
    else:
        set_settings(monkeypatch, value)
    result = run_tasks(lambda: upsert_task(retries=3))
    assert result.task_states["upsert"] == "failed"  # not up_for_retry: no retry mends a bad setting
    assert message in result.log and f"Airflow Variable {VARIABLE}" in result.log


def test_a_script_edited_since_the_compile_fails_at_once_and_changes_nothing(
    run_tasks, settings_variable, tmp_path, endpoint_client
) -> None:
    folder = shutil.copytree(CLASSIFICATION.folder, tmp_path / "classification")
    with (folder / "scripts" / "evaluate.py").open("a") as script:
        script.write("# edited\n")

    result = run_tasks(lambda: upsert_task(load_declaration(folder), retries=3))

    assert result.task_states["upsert"] == "failed"
    assert "evaluate.py changed after" in result.log and "run `make pipelines`" in result.log
    names = [p["PipelineName"] for p in endpoint_client("sagemaker").list_pipelines()["PipelineSummaries"]]
    assert settings_variable["pipeline_name"] not in names


def test_a_region_the_compiled_images_do_not_cover_fails_at_once_naming_it(run_tasks, settings_variable) -> None:
    result = run_tasks(lambda: upsert_task(region_name="xx-west-9", retries=3))
    assert result.task_states["upsert"] == "failed"
    assert "has no model_monitor_image for region 'xx-west-9'" in result.log  # the first of its images, by name


def test_a_pipeline_created_elsewhere_is_found_and_never_changed(run_tasks, settings_variable,
                                                                 endpoint_client) -> None:
    sagemaker = endpoint_client("sagemaker")
    definition = json.dumps({"Version": "2020-12-01", "Parameters": [], "Steps": [
        {"Name": "Wait", "Type": "Fail", "Arguments": {"ErrorMessage": "not run"}}]})
    arn = sagemaker.create_pipeline(PipelineName=settings_variable["pipeline_name"], PipelineDefinition=definition,
                                    RoleArn=ROLE_ARN)["PipelineArn"]
    existing = CLASSIFICATION._replace(existing=True)

    found = run_tasks(lambda: upsert_task(existing)).xcoms[("upsert", "return_value")]

    assert (found["action"], found["pipeline_arn"]) == ("existing", arn) and len(found["pipeline_version"]) == 16
    described = sagemaker.describe_pipeline(PipelineName=settings_variable["pipeline_name"])
    assert json.loads(described["PipelineDefinition"]) == json.loads(definition)  # not upserted


def test_a_pipeline_declared_existing_that_is_not_there_fails_at_once_naming_it(run_tasks, settings_variable) -> None:
    result = run_tasks(lambda: upsert_task(CLASSIFICATION._replace(existing=True), retries=3))

    assert result.task_states["upsert"] == "failed"
    assert f"SageMaker has no pipeline '{settings_variable['pipeline_name']}'" in result.log
    assert "says it exists already" in result.log


def test_template_fields() -> None:
    assert_template_fields_are_constructor_attributes(upsert_task())
