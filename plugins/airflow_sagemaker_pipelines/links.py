"""Links to the pipeline execution: the SageMaker console (in the connection's region and
partition), and, when the connection points at a local endpoint, that endpoint's own page."""

from __future__ import annotations

from typing import Any

from airflow.providers.amazon.aws.links.base_aws import BASE_AWS_CONSOLE_LINK, BaseAwsLink
from airflow.providers.common.compat.sdk import BaseOperatorLink, XCom

from .console_urls import SAGEMAKER_ENDPOINT_PAGE, SAGEMAKER_EXECUTION_PAGE, local_execution_url


class SageMakerPipelineExecutionLink(BaseAwsLink):
    """Opens the execution's page (steps, parameters, logs) in the SageMaker console."""

    name = "SageMaker Pipeline Execution"
    key = "sagemaker_pipeline_execution"
    format_str = BASE_AWS_CONSOLE_LINK + SAGEMAKER_EXECUTION_PAGE


class SageMakerEndpointLink(BaseAwsLink):
    """Opens the real-time endpoint's page (status, config, invocations) in the SageMaker console."""

    name = "SageMaker Endpoint"
    key = "sagemaker_endpoint"
    format_str = BASE_AWS_CONSOLE_LINK + SAGEMAKER_ENDPOINT_PAGE


class LocalEndpointExecutionLink(BaseOperatorLink):
    """The local endpoint's page of the execution (the AWS console cannot show a local one); empty on AWS."""

    name = "Local endpoint execution"
    key = "local_endpoint_execution"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        return XCom.get_value(key=self.key, ti_key=ti_key) or ""


def execution_arn_parts(execution_arn: str) -> dict[str, str]:
    resource = execution_arn.split(":", 5)[-1]  # pipeline/<name>/execution/<id>
    parts = resource.split("/")
    if len(parts) != 4 or parts[0] != "pipeline" or parts[2] != "execution":
        raise ValueError(f"not a pipeline execution ARN: {execution_arn!r}")
    return {"pipeline_name": parts[1], "execution_id": parts[3]}


def persist_execution_link(context: Any, operator: Any, execution_arn: str) -> None:
    """Store the links' fields for this task (XComs): the console's in the region and partition of
    its hook, the local endpoint's when the connection's endpoint_url is one."""
    parts = execution_arn_parts(execution_arn)
    SageMakerPipelineExecutionLink.persist(
        context=context,
        operator=operator,
        region_name=operator.hook.conn_region_name,
        aws_partition=operator.hook.conn_partition,
        **parts,
    )
    endpoint_url = operator.hook.conn_config.get_service_endpoint_url("sagemaker")
    if endpoint_url and operator.do_xcom_push:
        context["ti"].xcom_push(key=LocalEndpointExecutionLink.key, value=local_execution_url(endpoint_url, **parts))
