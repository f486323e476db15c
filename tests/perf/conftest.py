from __future__ import annotations

from datetime import date

import pytest

from include.data.partitions import partition_uri, seed_partitions
from include.pipelines.sdk_session import boto3_session
from include.pipelines.settings import PipelineSettings

BUCKET = "ml-pipeline-tests"
DAY = date(2024, 3, 1)


@pytest.fixture(scope="session")
def session(endpoint: str):
    """A boto3 session whose every client (the SDK's too) reaches the local endpoint."""
    return boto3_session("us-east-1", endpoint)


@pytest.fixture(scope="session")
def seeded_bucket(session) -> str:
    seed_partitions(session.client("s3"), BUCKET, DAY, DAY)
    return BUCKET


@pytest.fixture(scope="session")
def settings(seeded_bucket: str) -> PipelineSettings:
    return PipelineSettings(region="us-east-1", role_arn="arn:aws:iam::123456789012:role/SageMakerPipelineRole",
                            bucket=seeded_bucket, pipeline_name="classification-test")


@pytest.fixture(scope="session")
def day_uri(seeded_bucket: str) -> str:
    return partition_uri(seeded_bucket, DAY)
