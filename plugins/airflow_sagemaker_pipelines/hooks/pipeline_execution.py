"""SageMakerHook plus what the provider lacks for pipeline executions.

An idempotent start (ClientRequestToken), the whole step listing (every page), a stop that
tolerates an execution that already ended, and the S3 location of a processing step's output.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.amazon.aws.hooks.sagemaker import SageMakerHook
from botocore.exceptions import ClientError

TERMINAL_STATUSES = frozenset({"Succeeded", "Failed", "Stopped"})


def stringify_parameters(parameters: dict[str, Any] | None) -> list[dict[str, str]]:
    """SageMaker accepts parameter values only as strings; floats and booleans are converted here."""
    formatted = []
    for name, value in (parameters or {}).items():
        if value is None:
            raise ValueError(f"pipeline parameter {name!r} is None: give it a value or leave it out")
        text = str(value).lower() if isinstance(value, bool) else str(value)
        formatted.append({"Name": str(name), "Value": text})
    return formatted


class PipelineExecutionHook(SageMakerHook):
    """Pipeline executions through the Airflow AWS connection (its endpoint_url included)."""

    def start_pipeline_execution(
        self,
        *,
        pipeline_name: str,
        display_name: str,
        client_request_token: str,
        pipeline_params: dict[str, Any] | None = None,
        description: str | None = None,
    ) -> str:
        """Start an execution; the same token returns the execution it already started."""
        request: dict[str, Any] = {
            "PipelineName": pipeline_name,
            "PipelineExecutionDisplayName": display_name,
            "PipelineParameters": stringify_parameters(pipeline_params),
            "ClientRequestToken": client_request_token,
        }
        if description:
            request["PipelineExecutionDescription"] = description
        return self.conn.start_pipeline_execution(**request)["PipelineExecutionArn"]

    def describe_execution(self, execution_arn: str) -> dict[str, Any]:
        return self.conn.describe_pipeline_execution(PipelineExecutionArn=execution_arn)

    def list_execution_steps(self, execution_arn: str) -> list[dict[str, Any]]:
        """Every step of the execution, oldest first, across all pages."""
        paginator = self.conn.get_paginator("list_pipeline_execution_steps")
        steps: list[dict[str, Any]] = []
        for page in paginator.paginate(PipelineExecutionArn=execution_arn, SortOrder="Ascending"):
            steps.extend(page["PipelineExecutionSteps"])
        return steps

    def stop_execution(self, execution_arn: str) -> str:
        """Ask SageMaker to stop the execution; one that already ended is left as it is.

        Returns the status after the call.
        """
        try:
            self.conn.stop_pipeline_execution(PipelineExecutionArn=execution_arn)
        except ClientError:
            status = self.describe_execution(execution_arn)["PipelineExecutionStatus"]
            if status in TERMINAL_STATUSES or status == "Stopping":
                self.log.info("Execution %s is already %s; nothing to stop", execution_arn, status)
                return status
            raise
        return self.describe_execution(execution_arn)["PipelineExecutionStatus"]

    def processing_output_uri(self, processing_job_arn: str, output_name: str) -> str:
        """The S3 URI a processing job wrote one of its named outputs to."""
        job_name = processing_job_arn.rsplit("/", 1)[-1]
        job = self.describe_processing_job(job_name)
        outputs = job.get("ProcessingOutputConfig", {}).get("Outputs", [])
        for output in outputs:
            if output["OutputName"] == output_name and "S3Output" in output:
                return output["S3Output"]["S3Uri"]
        names = ", ".join(o["OutputName"] for o in outputs) or "none"
        raise ValueError(f"processing job {job_name} has no S3 output named {output_name!r} (outputs: {names})")
