"""Two DAG runs upserting at once: the one whose create loses the race updates instead of failing."""

from __future__ import annotations

import dataclasses

from include.pipelines.upsert import build_definition, upsert_pipeline


def test_pipeline_created_by_another_run_between_describe_and_create_is_not_an_error(endpoint_session, pipeline_settings, endpoint_client) -> None:
    raced = dataclasses.replace(pipeline_settings, pipeline_name="upsert-race")
    other_run = endpoint_client("sagemaker")
    definition = build_definition(raced, endpoint_session)

    def other_run_creates_it_first(**_: object) -> None:
        other_run.create_pipeline(PipelineName=raced.pipeline_name, PipelineDefinition=definition,
                                  RoleArn=raced.role_arn)

    endpoint_session.events.register_first("before-call.sagemaker.CreatePipeline", other_run_creates_it_first)
    try:
        result = upsert_pipeline(endpoint_session, raced)
    finally:
        endpoint_session.events.unregister("before-call.sagemaker.CreatePipeline", other_run_creates_it_first)

    assert result.action == "unchanged"
    assert result.pipeline_arn == other_run.describe_pipeline(PipelineName=raced.pipeline_name)["PipelineArn"]
