"""A console link to the pipeline execution, in the connection's region and partition."""

from __future__ import annotations

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
