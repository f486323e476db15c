"""Clients of the session-wide local endpoint (tests/conftest.py starts it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.support.constants import REGION


@pytest.fixture(scope="session")
def endpoint_client(endpoint: str) -> Callable[[str], Any]:
    """Factory of boto3 clients bound to the endpoint: `endpoint_client("s3")`, `endpoint_client("s3", region=...)`."""
    import boto3

    session = boto3.session.Session(region_name=REGION)

    def client(service: str, region: str = REGION) -> Any:
        return session.client(service, endpoint_url=endpoint, region_name=region)

    return client


@pytest.fixture(scope="session")
def endpoint_session(endpoint: str) -> Any:
    """A boto3 session whose every client (the SageMaker SDK's too) reaches the endpoint."""
    from devtools.pipeline_compiler.sdk_session import boto3_session

    return boto3_session(REGION, endpoint)


@pytest.fixture
def aws_default_connection(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """`aws_default` pointing at the endpoint, as a deployment would configure it."""
    from devtools.local_airflow.environment import aws_connection_uri_json

    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", aws_connection_uri_json(endpoint))
    return "aws_default"


# --- clients and a scratch bucket for tests that drive the endpoint directly --------------------
@pytest.fixture(scope="module")
def sagemaker(endpoint_client: Callable[[str], Any]) -> Any:
    return endpoint_client("sagemaker")


@pytest.fixture(scope="module")
def s3(endpoint_client: Callable[[str], Any]) -> Any:
    return endpoint_client("s3")


@pytest.fixture(scope="module")
def bucket(s3: Any) -> str:
    """A scratch bucket for tests that drive the endpoint directly."""
    from tests.support.pipelines import unique

    name = unique("bucket")
    s3.create_bucket(Bucket=name)
    return name
