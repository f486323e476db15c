"""This package's hooks and the SDK's session share one botocore loader: each service model is parsed once per process."""

from __future__ import annotations

import json
from collections.abc import Iterator

import botocore.loaders
import pytest
from airflow.providers.amazon.aws.hooks import base_aws
from airflow.providers.amazon.aws.hooks.base_aws import BaseSessionFactory
from airflow_sagemaker_pipelines.hooks.connection_session import connection_session
from airflow_sagemaker_pipelines.hooks.model_registry import ModelRegistryHook
from airflow_sagemaker_pipelines.hooks.pipeline_execution import PipelineExecutionHook


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


def test_a_second_hook_and_the_sdk_session_parse_no_model_again_and_still_answer(connection: str, parsed) -> None:
    first = PipelineExecutionHook(aws_conn_id=connection).conn
    parsed_by_the_first = list(parsed)
    second = ModelRegistryHook(aws_conn_id=connection).conn
    sdk = connection_session(PipelineExecutionHook(aws_conn_id=connection)).client("sagemaker")

    assert parsed_by_the_first == [] or any("sagemaker" in path for path in parsed_by_the_first)
    assert parsed[len(parsed_by_the_first):] == []  # nothing parsed again
    for client in (first, second, sdk):
        assert isinstance(client.list_pipelines()["PipelineSummaries"], list)


def test_a_custom_session_factory_of_the_user_is_left_to_make_the_sessions(connection: str, monkeypatch) -> None:
    made: list[str] = []

    class Custom(BaseSessionFactory):
        def _create_basic_session(self, session_kwargs):  # type: ignore[no-untyped-def]
            made.append("custom")
            return super()._create_basic_session(session_kwargs)

    monkeypatch.setattr(base_aws, "SessionFactory", Custom)
    PipelineExecutionHook(aws_conn_id=connection).get_session()

    assert made == ["custom"]


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
