"""Run pipelines built with SDK v3's own classes on the endpoint, as a user would."""

from __future__ import annotations

from typing import Any

from tests.support.pipelines import ROLE, unique, wait_for


def run_sdk_pipeline(sagemaker: Any, sdk_session: Any, steps: list[Any], parameters: list[Any] | None = None,
                     name: str | None = None, timeout: float = 180, **pipeline_options: Any) -> tuple[Any, str, dict[str, Any]]:
    """Upsert the SDK Pipeline, start it with the SDK, wait; return (pipeline, execution ARN, description)."""
    from sagemaker.mlops.workflow.pipeline import Pipeline

    pipeline = Pipeline(name=name or unique("sdk"), parameters=parameters or [], steps=steps,
                        sagemaker_session=sdk_session, **pipeline_options)
    pipeline.upsert(role_arn=ROLE)
    execution = pipeline.start()
    return pipeline, execution.arn, wait_for(sagemaker, execution.arn, timeout=timeout)
