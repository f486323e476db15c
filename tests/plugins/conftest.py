from __future__ import annotations

import pytest


@pytest.fixture
def aws_default_connection(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """`aws_default` pointing at the local endpoint, as the DAG's deployment would configure it."""
    from include.local_airflow.environment import aws_connection_uri_json

    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", aws_connection_uri_json(endpoint))
    return "aws_default"
