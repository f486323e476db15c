"""PipelineDefinitionHook on the endpoint: one call when nothing changed, and concurrent runs that race to create."""

from __future__ import annotations

import json
import uuid

from airflow_sagemaker_pipelines.hooks.pipeline_definition import PipelineDefinitionHook

from tests.support.constants import ROLE_ARN
from tests.support.pipelines import definition, fail_step

OTHER_ROLE = "arn:aws:iam::123456789012:role/OtherPipelineRole"


def test_created_then_unchanged_then_updated_on_a_new_definition_or_role(aws_default_connection) -> None:
    hook, name = PipelineDefinitionHook(aws_conn_id=aws_default_connection), f"hook-{uuid.uuid4().hex[:8]}"
    calls: list[str] = []
    hook.conn.meta.events.register("before-call.sagemaker.*", lambda model, **_: calls.append(model.name))
    first, second = definition([fail_step("Stop", "first")]), definition([fail_step("Stop", "second")])

    actions = [hook.upsert_pipeline(name, first, ROLE_ARN)[1], hook.upsert_pipeline(name, first, ROLE_ARN)[1],
               hook.upsert_pipeline(name, second, ROLE_ARN)[1], hook.upsert_pipeline(name, second, OTHER_ROLE)[1]]

    assert actions == ["created", "unchanged", "updated", "updated"]
    assert calls.count("CreatePipeline") == 1 and calls.count("UpdatePipeline") == 2
    described = hook.conn.describe_pipeline(PipelineName=name)
    assert json.loads(described["PipelineDefinition"]) == json.loads(second) and described["RoleArn"] == OTHER_ROLE


def test_a_pipeline_created_by_another_run_between_describe_and_create_is_not_an_error(
    aws_default_connection, endpoint_client
) -> None:
    hook, name = PipelineDefinitionHook(aws_conn_id=aws_default_connection), f"race-{uuid.uuid4().hex[:8]}"
    other_run = endpoint_client("sagemaker")
    text = definition([fail_step("Stop", "raced")])

    def other_run_creates_it_first(**_: object) -> None:
        other_run.create_pipeline(PipelineName=name, PipelineDefinition=text, RoleArn=ROLE_ARN)

    hook.conn.meta.events.register_first("before-call.sagemaker.CreatePipeline", other_run_creates_it_first)
    arn, action = hook.upsert_pipeline(name, text, ROLE_ARN)

    assert action == "unchanged"
    assert arn == other_run.describe_pipeline(PipelineName=name)["PipelineArn"]
