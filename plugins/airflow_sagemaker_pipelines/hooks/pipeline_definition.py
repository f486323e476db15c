"""Pipelines themselves: create one, or update it only when its definition or role changed."""

from __future__ import annotations

import json
from typing import Any, Literal

from airflow.providers.amazon.aws.hooks.sagemaker import SageMakerHook
from botocore.exceptions import ClientError

from .transient_errors import StandardRetries

UpsertAction = Literal["created", "updated", "unchanged"]


class PipelineDefinitionHook(StandardRetries, SageMakerHook):
    """CreatePipeline / UpdatePipeline / DescribePipeline through the Airflow AWS connection."""

    def describe_pipeline(self, name: str) -> dict[str, Any]:
        """The pipeline as SageMaker has it; a pipeline that does not exist is a LookupError naming it."""
        try:
            return self.conn.describe_pipeline(PipelineName=name)
        except ClientError as error:
            if _is_not_found(error):
                raise LookupError(f"SageMaker has no pipeline {name!r} in this account and region") from None
            raise

    def upsert_pipeline(self, name: str, definition: str, role_arn: str, description: str = "") -> tuple[str, UpsertAction]:
        """(ARN, what was done). An unchanged pipeline costs one DescribePipeline and no update.

        Safe from concurrent DAG runs: when another run creates the pipeline between our describe and
        our create, the create's "already exists" sends us down the update path.
        """
        request = {"PipelineName": name, "PipelineDefinition": definition, "PipelineDescription": description,
                   "RoleArn": role_arn}
        try:
            current = self.conn.describe_pipeline(PipelineName=name)
        except ClientError as error:
            if not _is_not_found(error):
                raise
            try:
                return self.conn.create_pipeline(**request)["PipelineArn"], "created"
            except ClientError as create_error:
                if not _already_exists(create_error):
                    raise
                current = self.conn.describe_pipeline(PipelineName=name)
        if json.loads(current["PipelineDefinition"]) == json.loads(definition) and current.get("RoleArn") == role_arn:
            return current["PipelineArn"], "unchanged"
        return self.conn.update_pipeline(**request)["PipelineArn"], "updated"


def _already_exists(error: ClientError) -> bool:
    code = error.response.get("Error", {}).get("Code", "")
    message = error.response.get("Error", {}).get("Message", "")
    return code == "ResourceInUse" or (code == "ValidationException" and "already exists" in message)


def _is_not_found(error: ClientError) -> bool:
    code = error.response.get("Error", {}).get("Code", "")
    message = error.response.get("Error", {}).get("Message", "")
    return code in ("ResourceNotFound", "ResourceNotFoundException") or (
        code == "ValidationException" and ("does not exist" in message or "Could not find" in message)
    )
