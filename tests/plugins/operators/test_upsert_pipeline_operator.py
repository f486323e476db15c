"""UpsertPipelineOperator in a DAG run, with the DAG's own builder, on the local endpoint."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from airflow_sagemaker_pipelines.operators.upsert_pipeline import UpsertPipelineOperator

from include.pipelines.upsert import upsert_from_settings
from tests.support.constants import ROLE_ARN
from tests.support.template_fields import assert_template_fields_are_constructor_attributes

VARIABLE = "sagemaker_pipelines_settings_under_test"


@pytest.fixture
def settings_variable(monkeypatch: pytest.MonkeyPatch, seeded_bucket: str) -> dict[str, Any]:
    values = {"bucket": seeded_bucket, "role_arn": ROLE_ARN, "pipeline_name": f"upsert-{uuid.uuid4().hex[:8]}"}
    monkeypatch.setenv(f"AIRFLOW_VAR_{VARIABLE.upper()}", json.dumps(values))
    return values


def upsert_task(upsert: Any = upsert_from_settings, **kwargs: Any) -> UpsertPipelineOperator:
    return UpsertPipelineOperator(task_id="upsert", upsert=upsert, settings_variable=VARIABLE, **kwargs)


def test_creates_the_pipeline_then_finds_it_unchanged(run_tasks, settings_variable, endpoint_client) -> None:
    first = run_tasks(lambda: upsert_task())
    again = run_tasks(lambda: upsert_task())

    created, unchanged = first.xcoms[("upsert", "return_value")], again.xcoms[("upsert", "return_value")]
    assert (created["action"], unchanged["action"]) == ("created", "unchanged")
    assert created["pipeline_version"] == unchanged["pipeline_version"] and len(created["pipeline_version"]) == 16
    assert first.xcoms[("upsert", "bucket")] == settings_variable["bucket"]  # one XCom per field
    pipeline = endpoint_client("sagemaker").describe_pipeline(PipelineName=settings_variable["pipeline_name"])
    assert pipeline["PipelineArn"] == created["pipeline_arn"]


def test_the_builder_gets_a_session_bound_to_the_tasks_connection_region_and_config(run_tasks, settings_variable,
                                                                                      endpoint) -> None:
    seen: list[dict[str, Any]] = []

    def recording_upsert(session: Any, values: Any, source: str) -> dict[str, Any]:
        client = session.client("sagemaker")
        seen.append({"endpoint": client.meta.endpoint_url, "region": client.meta.region_name,
                     "retries": client.meta.config.retries, "source": source})
        return upsert_from_settings(session, values, source)

    result = run_tasks(lambda: upsert_task(recording_upsert, region_name="eu-west-1",
                                           botocore_config={"retries": {"mode": "adaptive", "max_attempts": 4}}))
    assert result.task_states["upsert"] == "success"
    assert seen == [{"endpoint": endpoint, "region": "eu-west-1",
                     "retries": {"mode": "adaptive", "total_max_attempts": 5},
                     "source": f"Airflow Variable {VARIABLE}"}]
    assert result.xcoms[("upsert", "region")] == "eu-west-1"


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
        monkeypatch.setenv(f"AIRFLOW_VAR_{VARIABLE.upper()}", value if isinstance(value, str) else json.dumps(value))
    result = run_tasks(lambda: upsert_task(retries=3))
    assert result.task_states["upsert"] == "failed"  # not up_for_retry: no retry mends a bad setting
    assert message in result.log and f"Airflow Variable {VARIABLE}" in result.log


def test_template_fields() -> None:
    assert_template_fields_are_constructor_attributes(upsert_task())
