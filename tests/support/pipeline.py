"""The classification pipeline's fixtures: a seeded day of data and the pipeline's settings."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.constants import PIPELINE_BUCKET, PIPELINE_DAY, REGION, ROLE_ARN


@pytest.fixture(scope="session")
def seeded_bucket(endpoint_session: Any) -> str:
    from devtools.sample_data.partitions import seed_partitions

    seed_partitions(endpoint_session.client("s3"), PIPELINE_BUCKET, PIPELINE_DAY, PIPELINE_DAY)
    return PIPELINE_BUCKET


@pytest.fixture(scope="session")
def pipeline_settings(seeded_bucket: str) -> Any:
    from include.pipelines.settings import PipelineSettings

    return PipelineSettings(region=REGION, role_arn=ROLE_ARN, bucket=seeded_bucket, pipeline_name="classification-test")


@pytest.fixture(scope="session")
def day_uri(seeded_bucket: str) -> str:
    from include.pipelines.contract import partition_uri

    return partition_uri(seeded_bucket, PIPELINE_DAY)
