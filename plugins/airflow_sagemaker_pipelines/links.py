"""A console link to the pipeline execution, in the connection's region and partition."""

from __future__ import annotations

from typing import Any

from airflow.providers.amazon.aws.links.base_aws import BASE_AWS_CONSOLE_LINK, BaseAwsLink


class SageMakerPipelineExecutionLink(BaseAwsLink):
    """Opens the execution's page (steps, parameters, logs) in the SageMaker console."""

    name = "SageMaker Pipeline Execution"
    key = "sagemaker_pipeline_execution"
    format_str = (
        BASE_AWS_CONSOLE_LINK
        + "/sagemaker/home?region={region_name}#/pipelines/{pipeline_name}/executions/{execution_id}"
    )


def execution_arn_parts(execution_arn: str) -> dict[str, str]:
    resource = execution_arn.split(":", 5)[-1]  # pipeline/<name>/execution/<id>
    parts = resource.split("/")
    if len(parts) != 4 or parts[0] != "pipeline" or parts[2] != "execution":
        raise ValueError(f"not a pipeline execution ARN: {execution_arn!r}")
    return {"pipeline_name": parts[1], "execution_id": parts[3]}


def persist_execution_link(context: Any, operator: Any, execution_arn: str) -> None:
    """Store the link's fields for this task (an XCom), in the region and partition of its hook."""
    SageMakerPipelineExecutionLink.persist(
        context=context,
        operator=operator,
        region_name=operator.hook.conn_region_name,
        aws_partition=operator.hook.conn_partition,
        **execution_arn_parts(execution_arn),
    )
