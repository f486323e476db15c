"""SageMakerHook plus what the provider lacks for pipeline executions.

An idempotent start (ClientRequestToken), the whole step listing (every page), a retry of a
failed execution, the definition an execution ran, and the S3 location of a processing step's
output; the calls the trigger needs exist async too, beside their sync twins, as the provider
keeps `describe_training_job_async` beside `describe_training_job`.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from airflow.providers.amazon.aws.hooks.sagemaker import SageMakerHook
from botocore.exceptions import ClientError

from .transient_errors import StandardRetries

# What SageMaker answers to a stop of an execution that is not Executing; the provider's
# stop_pipeline(fail_if_not_running=False) recognises the same words.
NOT_RUNNING_MESSAGE = "Only pipelines with 'Executing' status can be stopped"
_STOP_CONFLICT_RETRIES = 5


def stringify_parameters(parameters: dict[str, Any] | None) -> list[dict[str, str]]:
    """SageMaker accepts parameter values only as strings; floats and booleans are converted here."""
    formatted = []
    for name, value in (parameters or {}).items():
        if value is None:
            raise ValueError(f"pipeline parameter {name!r} is None: give it a value or leave it out")
        text = str(value).lower() if isinstance(value, bool) else str(value)
        formatted.append({"Name": str(name), "Value": text})
    return formatted


class PipelineExecutionHook(StandardRetries, SageMakerHook):
    """Pipeline executions through the Airflow AWS connection (its endpoint_url included)."""

    def start_pipeline(  # type: ignore[override]
        self,
        pipeline_name: str,
        display_name: str = "airflow-triggered-execution",
        pipeline_params: dict[str, Any] | None = None,
        *,
        client_request_token: str | None = None,
        description: str | None = None,
    ) -> str:
        """The provider's start_pipeline, plus a ClientRequestToken: the same token returns the
        execution it already started. Parameter values may be numbers or booleans."""
        request: dict[str, Any] = {
            "PipelineName": pipeline_name,
            "PipelineExecutionDisplayName": display_name,
            "PipelineParameters": stringify_parameters(pipeline_params),
        }
        if client_request_token:
            request["ClientRequestToken"] = client_request_token
        if description:
            request["PipelineExecutionDescription"] = description
        return self.conn.start_pipeline_execution(**request)["PipelineExecutionArn"]

    def retry_pipeline_execution(self, execution_arn: str, client_request_token: str) -> str:
        """Run a Failed or Stopped execution again from its failed steps; the succeeded ones are kept."""
        return self.conn.retry_pipeline_execution(
            PipelineExecutionArn=execution_arn, ClientRequestToken=client_request_token
        )["PipelineExecutionArn"]

    def resume_blocker(self, execution_arn: str, pipeline_params: dict[str, Any] | None = None) -> str | None:
        """Why RetryPipelineExecution would not redo what the run asks for now, or None when it would.

        A retry re-runs the failed steps with the execution's own definition and parameters: when
        the pipeline was updated since, or the run now sends other parameters (say, a fingerprint
        of data that was repaired), the run needs a new execution instead.
        """
        pipeline_name = execution_arn.split("/")[1]
        current = self.conn.describe_pipeline(PipelineName=pipeline_name)
        if self.execution_definition(execution_arn) != json.loads(current["PipelineDefinition"]):
            return f"pipeline {pipeline_name} was updated after the execution started"
        if pipeline_params is not None:
            listed = self.conn.get_paginator("list_pipeline_parameters_for_execution").paginate(
                PipelineExecutionArn=execution_arn)
            sent = {item["Name"]: item["Value"] for page in listed for item in page["PipelineParameters"]}
            changed = sorted(item["Name"] for item in stringify_parameters(pipeline_params)
                             if sent.get(item["Name"]) != item["Value"])
            if changed:
                return f"the run now sends other values for {', '.join(changed)}"
        return None

    def execution_definition(self, execution_arn: str) -> dict[str, Any]:
        """The pipeline definition the execution ran with (parsed)."""
        ran = self.conn.describe_pipeline_definition_for_execution(PipelineExecutionArn=execution_arn)
        return json.loads(ran["PipelineDefinition"])

    def newest_executions(self, pipeline_name: str, max_results: int = 100) -> list[dict[str, Any]]:
        """The pipeline's newest executions' summaries, newest first (one page)."""
        return self.conn.list_pipeline_executions(PipelineName=pipeline_name, SortBy="CreationTime",
                                                  SortOrder="Descending",
                                                  MaxResults=max_results).get("PipelineExecutionSummaries", [])

    def list_execution_steps(self, execution_arn: str) -> list[dict[str, Any]]:
        """Every step of the execution, oldest first, across all pages."""
        paginator = self.conn.get_paginator("list_pipeline_execution_steps")
        steps: list[dict[str, Any]] = []
        for page in paginator.paginate(PipelineExecutionArn=execution_arn, SortOrder="Ascending"):
            steps.extend(page["PipelineExecutionSteps"])
        return steps

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

    # --- async twins, for the trigger --------------------------------------------------------
    async def describe_pipeline_exec_async(self, conn: Any, execution_arn: str) -> dict[str, Any]:
        return await conn.describe_pipeline_execution(PipelineExecutionArn=execution_arn)

    async def list_execution_steps_async(self, conn: Any, execution_arn: str) -> list[dict[str, Any]]:
        steps: list[dict[str, Any]] = []
        paginator = conn.get_paginator("list_pipeline_execution_steps")
        async for page in paginator.paginate(PipelineExecutionArn=execution_arn, SortOrder="Ascending"):
            steps.extend(page["PipelineExecutionSteps"])
        return steps

    async def stop_pipeline_async(self, conn: Any, execution_arn: str) -> None:
        """`stop_pipeline(fail_if_not_running=False)`, async: an execution that already ended is left as it is."""
        for retries_left in reversed(range(_STOP_CONFLICT_RETRIES)):
            try:
                await conn.stop_pipeline_execution(PipelineExecutionArn=execution_arn)
                self.log.info("Asked SageMaker to stop %s", execution_arn)
                return
            except ClientError as error:
                code, message = error.response["Error"].get("Code"), error.response["Error"].get("Message", "")
                if code == "ConflictException" and retries_left:  # moving between steps: transient
                    await asyncio.sleep(0.3)
                    continue
                if NOT_RUNNING_MESSAGE in message:
                    self.log.info("Execution %s is not running; nothing to stop", execution_arn)
                    return
                raise
