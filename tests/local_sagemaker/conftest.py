"""Fixtures of the endpoint tests: the SDK v3 bound to the endpoint, Airflow against it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .endpoint_process import EndpointProcess


@pytest.fixture(scope="session")
def boto_session(endpoint: str) -> Any:
    """A boto3 session whose every client (the SDK's too) reaches the endpoint."""
    from devtools.pipeline_compiler.sdk_session import boto3_session

    return boto3_session("us-east-1", endpoint)


@pytest.fixture(scope="module")
def sdk_session(boto_session: Any, bucket: str) -> Any:
    """SDK v3's PipelineSession whose every client reaches the endpoint; artifacts go to `bucket`."""
    from devtools.pipeline_compiler.sdk_session import pipeline_session

    return pipeline_session(boto_session, bucket)


@pytest.fixture(scope="module")
def runtime(endpoint: str) -> Any:
    """A sagemaker-runtime client of the session's endpoint (InvokeEndpoint), without retries: a failure shows at once."""
    import boto3
    from botocore.config import Config

    return boto3.session.Session(region_name="us-east-1").client(
        "sagemaker-runtime", endpoint_url=endpoint, config=Config(retries={"max_attempts": 1}))


@pytest.fixture
def delete_endpoints_after(endpoint_client: Callable[[str], Any]) -> Iterator[None]:
    """Real-time endpoints a test creates are deleted after it: each instance is a model server process
    (~200 MB), and the session's endpoint would otherwise keep them all until the session ends."""
    import contextlib

    sagemaker = endpoint_client("sagemaker")

    def names() -> set[str]:
        pages = sagemaker.get_paginator("list_endpoints").paginate()
        return {endpoint["EndpointName"] for page in pages for endpoint in page["Endpoints"]}

    before = names()
    yield
    for name in names() - before:
        with contextlib.suppress(sagemaker.exceptions.ClientError):  # deleted by the test itself meanwhile
            sagemaker.delete_endpoint(EndpointName=name)


@pytest.fixture(scope="module")
def aws_default(endpoint: str, airflow_db: None) -> Iterator[None]:
    """The `aws_default` connection pointing at the endpoint, as a user's would (AIRFLOW_CONN_AWS_DEFAULT)."""
    from devtools.local_airflow.environment import aws_connection_uri_json

    saved = os.environ.get("AIRFLOW_CONN_AWS_DEFAULT")
    os.environ["AIRFLOW_CONN_AWS_DEFAULT"] = aws_connection_uri_json(endpoint)
    yield
    if saved is None:
        os.environ.pop("AIRFLOW_CONN_AWS_DEFAULT", None)
    else:
        os.environ["AIRFLOW_CONN_AWS_DEFAULT"] = saved


@pytest.fixture
def endpoint_processes() -> Iterator[Callable[..., EndpointProcess]]:
    """Start `python -m devtools.local_sagemaker <arguments>` on a free loopback port; all are killed after the test."""
    started: list[EndpointProcess] = []

    def start(*arguments: str, env: dict[str, str] | None = None) -> EndpointProcess:
        endpoint = EndpointProcess(list(arguments), env)
        started.append(endpoint)
        return endpoint

    yield start
    for endpoint in started:
        endpoint.kill()
