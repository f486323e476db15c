"""The SDK's session comes from the task's hook: its connection's endpoint, region, verify and config."""

from __future__ import annotations

import json

import pytest
from airflow.providers.amazon.aws.hooks.sagemaker import SageMakerHook
from airflow_sagemaker_pipelines.hooks.connection_session import connection_session


def test_every_client_reaches_the_endpoint_in_the_connections_extra(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    connection = {"conn_type": "aws", "login": "local", "password": "local",
                  "extra": {"region_name": "eu-west-1", "endpoint_url": endpoint}}
    monkeypatch.setenv("AIRFLOW_CONN_PIPELINE_TEST", json.dumps(connection))
    session = connection_session(SageMakerHook(aws_conn_id="pipeline_test"))
    assert session.region_name == "eu-west-1"
    for service in ("s3", "sagemaker", "sts"):
        assert session.client(service).meta.endpoint_url == endpoint
    # botocore-level clients (the SDK makes some) read the endpoint from the session's profile
    assert session._session.create_client("sagemaker").meta.endpoint_url == endpoint
    assert session.get_credentials().access_key == "local"
    session.client("s3").create_bucket(Bucket="from-airflow-connection",
                                       CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert "from-airflow-connection" in [b["Name"] for b in session.client("s3").list_buckets()["Buckets"]]


def test_the_tasks_region_verify_and_botocore_config_reach_the_clients(endpoint: str, monkeypatch) -> None:
    connection = {"conn_type": "aws", "login": "local", "password": "local",
                  "extra": {"region_name": "eu-west-1", "endpoint_url": endpoint}}
    monkeypatch.setenv("AIRFLOW_CONN_PIPELINE_TEST", json.dumps(connection))
    hook = SageMakerHook(aws_conn_id="pipeline_test", region_name="us-west-2", verify=False,
                         config={"retries": {"mode": "standard", "max_attempts": 7}, "connect_timeout": 3})
    client = connection_session(hook).client("sagemaker")
    assert client.meta.region_name == "us-west-2"
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 8}  # botocore counts the first try
    assert client.meta.config.connect_timeout == 3
    assert client._endpoint.http_session._verify is False


def test_connection_without_region_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_NO_REGION", json.dumps({"conn_type": "aws", "login": "a", "password": "b"}))
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(ValueError, match="Airflow connection 'no_region' has no region_name"):
        connection_session(SageMakerHook(aws_conn_id="no_region"))
