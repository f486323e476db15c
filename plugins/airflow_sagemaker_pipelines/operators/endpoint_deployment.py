"""The provider's model, endpoint-config and endpoint operators, made safe to retry and to run again.

The provider's create nothing twice only by failing: a second CreateModel or CreateEndpointConfig
of one name is a ValidationException, and an UpdateEndpoint to the config the endpoint already
serves would redeploy it. The names derive from the package version (ChooseDeploymentOperator),
so what exists already is this run's (or an earlier run's for the same version): it is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.operators.sagemaker import (
    SageMakerEndpointConfigOperator,
    SageMakerEndpointOperator,
    SageMakerModelOperator,
    serialize,
)

from ..hooks.endpoint_hosting import EndpointHostingHook
from ..links import SageMakerEndpointLink

if TYPE_CHECKING:
    from airflow.sdk import Context


class CreateModelOperator(SageMakerModelOperator):
    """CreateModel (from a model package); a model of that name already there is kept."""

    aws_hook_class = EndpointHostingHook

    def execute(self, context: Context) -> dict:
        name = self.config["ModelName"]
        if self.hook.model_exists(name):
            self.log.info("Model %s exists already (its version was deployed before, or this is a retry): kept", name)
            return {"Model": serialize(self.hook.describe_model(name))}
        return super().execute(context)


class CreateEndpointConfigOperator(SageMakerEndpointConfigOperator):
    """CreateEndpointConfig; a config of that name already there is kept. A key whose value is None (a
    DataCaptureConfig when nothing is captured) is left out of the request."""

    aws_hook_class = EndpointHostingHook

    def execute(self, context: Context) -> dict:
        self.config = {key: value for key, value in self.config.items() if value is not None}
        name = self.config["EndpointConfigName"]
        if self.hook.endpoint_config_exists(name):
            self.log.info("Endpoint config %s exists already: kept", name)
            return {"EndpointConfig": serialize(self.hook.describe_endpoint_config(name))}
        return super().execute(context)


class DeployEndpointOperator(SageMakerEndpointOperator):
    """CreateEndpoint, or UpdateEndpoint (blue/green) when it exists; nothing when it serves the config already.

    The wait defers (no worker slot held while the endpoint updates). An update that fails leaves
    the endpoint InService on its old config, which the wait reports as success: the next task
    (VerifyEndpointOperator) reads what the endpoint really serves.
    """

    aws_hook_class = EndpointHostingHook
    operator_extra_links = (SageMakerEndpointLink(),)
    template_fields: Sequence[str] = (*SageMakerEndpointOperator.template_fields, "poll_seconds")

    def __init__(self, *, poll_seconds: Any = 30, **kwargs: Any) -> None:
        kwargs.setdefault("deferrable", True)
        super().__init__(**kwargs)
        self.poll_seconds = poll_seconds  # templated: the provider's check_interval is not

    def execute(self, context: Context) -> dict:
        name, target = self.config["EndpointName"], self.config["EndpointConfigName"]
        SageMakerEndpointLink.persist(context=context, operator=self, region_name=self.hook.conn_region_name,
                                      aws_partition=self.hook.conn_partition, endpoint_name=name)
        endpoint = self.hook.find_endpoint(name)
        if endpoint is not None and endpoint["EndpointConfigName"] == target and \
                endpoint["EndpointStatus"] == "InService":
            self.log.info("Endpoint %s serves %s already: nothing to deploy", name, target)
            return {"EndpointConfig": serialize(self.hook.describe_endpoint_config(target)),
                    "Endpoint": serialize(endpoint)}
        self.check_interval = max(1, round(float(self.poll_seconds)))
        self.operation = "update" if endpoint is not None else "create"
        self.log.info("%s endpoint %s with %s", "Updating" if endpoint else "Creating", name, target)
        return super().execute(context)
