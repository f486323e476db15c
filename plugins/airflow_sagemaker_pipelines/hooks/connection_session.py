"""A boto3 session for code that makes its own clients (the SageMaker SDK), bound to a hook.

The SDK builds its S3, SageMaker and STS clients from the boto3 session it is given. A plain
`hook.get_session()` carries the connection's credentials and region but not its
`endpoint_url`, nor the task's `verify` and `botocore_config`: the SDK would reach real AWS
from a DAG pointed at the local endpoint, or drop the retry settings. Every client this
session makes gets all of them, as the hook's own clients do.
"""

from __future__ import annotations

from typing import Any

import boto3
import botocore.session
from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook

from .shared_models import with_shared_loader


class ConnectionBoundSession(boto3.session.Session):
    """boto3 session whose clients and resources take the hook's endpoint, verify and config by default."""

    def __init__(self, hook: AwsBaseHook, region_name: str) -> None:
        # The connection's credentials (refreshable ones too, as the provider's session factory
        # sets them), on a botocore session of our own: boto3 cannot wrap one twice.
        core = with_shared_loader(botocore.session.get_session())
        core._credentials = hook.get_session(region_name=region_name).get_credentials()
        endpoint_url = hook.conn_config.endpoint_url
        if endpoint_url:
            # Clients the SDK makes through botocore directly read the profile's endpoint too.
            core.full_config["profiles"].setdefault(core.profile or "default", {})["endpoint_url"] = endpoint_url
        super().__init__(botocore_session=core, region_name=region_name)
        self._hook = hook

    def _defaults(self, service_name: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        hook = self._hook
        kwargs.setdefault("endpoint_url", hook.conn_config.get_service_endpoint_url(service_name))
        if hook.verify is not None:
            kwargs.setdefault("verify", hook.verify)
        own = kwargs.get("config")
        kwargs["config"] = hook.config.merge(own) if own is not None else hook.config
        return kwargs

    def client(self, service_name: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        return super().client(service_name, *args, **self._defaults(service_name, kwargs))

    def resource(self, service_name: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        return super().resource(service_name, *args, **self._defaults(service_name, kwargs))


def connection_session(hook: AwsBaseHook) -> ConnectionBoundSession:
    """The session for `hook`'s connection and region; a connection without a region is refused by name."""
    region = hook.region_name or boto3.session.Session().region_name  # the task's, the connection's, else AWS_DEFAULT_REGION
    if not region:
        raise ValueError(f"Airflow connection {hook.aws_conn_id!r} has no region_name: set it in the connection's extra")
    return ConnectionBoundSession(hook, region)
