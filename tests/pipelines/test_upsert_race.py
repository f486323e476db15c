"""Two DAG runs upserting at once: the one whose create loses the race updates instead of failing."""

from __future__ import annotations

import dataclasses

from include.pipelines.upsert import build_definition, upsert_pipeline


def test_pipeline_created_by_another_run_between_describe_and_create_is_not_an_error(session, settings, aws) -> None:
    raced = dataclasses.replace(settings, pipeline_name="upsert-race")
    other_run = aws("sagemaker")
    definition = build_definition(raced, session)

    def other_run_creates_it_first(**_: object) -> None:
        other_run.create_pipeline(PipelineName=raced.pipeline_name, PipelineDefinition=definition,
                                  RoleArn=raced.role_arn)

    session.events.register_first("before-call.sagemaker.CreatePipeline", other_run_creates_it_first)
    try:
        result = upsert_pipeline(session, raced)
    finally:
        session.events.unregister("before-call.sagemaker.CreatePipeline", other_run_creates_it_first)

    assert result.action == "unchanged"
    assert result.pipeline_arn == other_run.describe_pipeline(PipelineName=raced.pipeline_name)["PipelineArn"]
