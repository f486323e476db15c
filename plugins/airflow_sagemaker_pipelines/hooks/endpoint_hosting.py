"""Real-time endpoints: what an endpoint serves, its models and configs, and invoking it.

The provider's SageMakerHook creates and waits; it has nothing that reads which model package an
endpoint serves, tells an existing model or config from a new one, or invokes an endpoint
(sagemaker-runtime).
"""

from __future__ import annotations

import time
from functools import cached_property
from typing import Any

from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook
from botocore.exceptions import ClientError

from .model_registry import ModelRegistryHook
from .transient_errors import StandardRetries


def _missing(error: ClientError) -> bool:
    """SageMaker answers a Describe of a missing resource with ValidationException 'Could not find ...'."""
    message = error.response.get("Error", {}).get("Message", "")
    return error.response.get("Error", {}).get("Code") in ("ValidationException", "ResourceNotFound") and (
        "Could not find" in message or "does not exist" in message)


class EndpointHostingHook(ModelRegistryHook):
    """SageMaker hosting through the Airflow AWS connection: endpoints, their configs and models (and the
    registry's packages they serve)."""

    def find_endpoint(self, name: str) -> dict[str, Any] | None:
        try:
            return self.conn.describe_endpoint(EndpointName=name)
        except ClientError as error:
            if _missing(error):
                return None
            raise

    def model_exists(self, name: str) -> bool:
        try:
            self.conn.describe_model(ModelName=name)
        except ClientError as error:
            if _missing(error):
                return False
            raise
        return True

    def endpoint_config_exists(self, name: str) -> bool:
        try:
            self.conn.describe_endpoint_config(EndpointConfigName=name)
        except ClientError as error:
            if _missing(error):
                return False
            raise
        return True

    def served_package(self, config_name: str) -> str | None:
        """The model package an endpoint config serves (its first variant's model's), or None for another kind."""
        config = self.conn.describe_endpoint_config(EndpointConfigName=config_name)
        model = self.conn.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
        containers = [model.get("PrimaryContainer") or {}, *(model.get("Containers") or [])]
        return next((c["ModelPackageName"] for c in containers if c.get("ModelPackageName")), None)

    @cached_property
    def runtime(self) -> Any:
        """A sagemaker-runtime client on the same connection (its endpoint_url included), retrying alike."""
        return _RuntimeHook(aws_conn_id=self.aws_conn_id, region_name=self.region_name, verify=self.verify,
                            config=self.config).conn

    def invoke(self, endpoint: str, body: str, content_type: str = "text/csv") -> tuple[bytes, str, float]:
        """The answer's body, its content type, and the call's wall time in seconds."""
        started = time.perf_counter()
        answer = self.runtime.invoke_endpoint(EndpointName=endpoint, Body=body.encode(), ContentType=content_type)
        return answer["Body"].read(), answer.get("ContentType", "text/csv"), time.perf_counter() - started


class _RuntimeHook(StandardRetries, AwsBaseHook):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(client_type="sagemaker-runtime", **kwargs)
