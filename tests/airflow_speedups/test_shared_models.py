"""With the local speed-up as `[aws] session_factory`, the hooks share one botocore loader: each service model
is parsed once per process."""

from __future__ import annotations

import json
from collections.abc import Iterator

import botocore.loaders
import pytest
from airflow.providers.amazon.aws.hooks import base_aws
from airflow_sagemaker_pipelines.hooks.model_registry import ModelRegistryHook
from airflow_sagemaker_pipelines.hooks.pipeline_execution import PipelineExecutionHook

from devtools.airflow_speedups.shared_models import SharedLoaderSessionFactory


@pytest.fixture
def connection(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AIRFLOW_CONN_SHARED_MODELS", json.dumps(
        {"conn_type": "aws", "login": "local", "password": "local",
         "extra": {"region_name": "us-east-1", "endpoint_url": endpoint}}))
    return "shared_models"


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The data files botocore parses from now on."""
    files: list[str] = []
    parse = botocore.loaders.JSONFileLoader.load_file

    def counting(loader: botocore.loaders.JSONFileLoader, file_path: str) -> object:
        files.append(file_path)
        return parse(loader, file_path)

    monkeypatch.setattr(botocore.loaders.JSONFileLoader, "load_file", counting)
    yield files


def test_the_provider_makes_its_sessions_with_the_shared_loader_as_configured() -> None:
    assert base_aws.SessionFactory is SharedLoaderSessionFactory  # AIRFLOW__AWS__SESSION_FACTORY (tests/conftest.py)


def test_a_second_hook_parses_no_model_again_and_both_still_answer(connection: str, parsed) -> None:
    first = PipelineExecutionHook(aws_conn_id=connection).conn
    parsed_by_the_first = list(parsed)
    second = ModelRegistryHook(aws_conn_id=connection).conn

    assert parsed_by_the_first == [] or any("sagemaker" in path for path in parsed_by_the_first)
    assert parsed[len(parsed_by_the_first):] == []  # nothing parsed again
    for client in (first, second):
        assert isinstance(client.list_pipelines()["PipelineSummaries"], list)


def test_the_s3_hooks_and_the_sns_notifiers_hook_parse_their_models_once_and_still_answer(connection: str,
                                                                                        parsed) -> None:
    from airflow_sagemaker_pipelines.hooks.provider_clients import S3Hook, SnsNotifier

    topic = "arn:aws:sns:us-east-1:123456789012:t"
    first_clients = [S3Hook(aws_conn_id=connection).conn,
                     SnsNotifier(aws_conn_id=connection, target_arn=topic, message="m").hook.conn]
    parsed_by_the_first = list(parsed)
    s3 = S3Hook(aws_conn_id=connection)
    resource = s3.resource
    sns = SnsNotifier(aws_conn_id=connection, target_arn=topic, message="m").hook.conn

    models = ("service-2", "endpoint-rule-set-1", "endpoints", "partitions", "_retry")
    assert [path for path in parsed[len(parsed_by_the_first):] if path.endswith(models)] == []  # resources-1: new
    assert isinstance(s3.conn.list_buckets()["Buckets"], list)
    assert resource.meta.client.meta.service_model.service_name == "s3"
    assert isinstance(sns.list_topics()["Topics"], list)
    assert [client.meta.service_model.service_name for client in first_clients] == ["s3", "sns"]
