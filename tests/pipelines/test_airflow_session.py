"""The upsert's session comes from the Airflow AWS connection, endpoint_url included."""

from __future__ import annotations

import json

import pytest

from include.pipelines.sdk_session import session_from_airflow_connection


def test_session_from_connection_reaches_the_endpoint_in_its_extra(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    connection = {"conn_type": "aws", "login": "local", "password": "local",
                  "extra": {"region_name": "eu-west-1", "endpoint_url": endpoint}}
    monkeypatch.setenv("AIRFLOW_CONN_PIPELINE_TEST", json.dumps(connection))
    session = session_from_airflow_connection("pipeline_test")
    assert session.region_name == "eu-west-1"
    for service in ("s3", "sagemaker", "sts"):
        assert session.client(service).meta.endpoint_url == endpoint
    assert session.get_credentials().access_key == "local"
    session.client("s3").create_bucket(Bucket="from-airflow-connection", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert "from-airflow-connection" in [b["Name"] for b in session.client("s3").list_buckets()["Buckets"]]


def test_connection_without_region_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_NO_REGION", json.dumps({"conn_type": "aws", "login": "a", "password": "b"}))
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(ValueError, match="Airflow connection 'no_region' has no region_name"):
        session_from_airflow_connection("no_region")
