"""The classification pipeline's fixtures: a seeded day of data and the pipeline's settings."""

from __future__ import annotations

import io
from datetime import date
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
    from airflow_sagemaker_pipelines.deployment_settings import settings_from_mapping

    from tests.support.declarations import CLASSIFICATION

    return settings_from_mapping({"bucket": seeded_bucket, "role_arn": ROLE_ARN, "pipeline_name": "classification-test"},
                                 REGION, "the test's settings", CLASSIFICATION)


@pytest.fixture(scope="session")
def day_uri(seeded_bucket: str) -> str:
    from tests.support.declarations import partition_uri

    return partition_uri(seeded_bucket, PIPELINE_DAY)


def upsert_classification_pipeline(endpoint: str, settings: Any) -> dict[str, Any]:
    """What the DAG's upsert task does for these PipelineSettings (compiled definition, scripts), without a DAG run."""
    from airflow_sagemaker_pipelines.operators.upsert_pipeline import UpsertPipelineOperator

    from devtools.local_airflow.environment import aws_connection_uri_json
    from tests.support.declarations import CLASSIFICATION

    values = {"bucket": settings.bucket, "role_arn": settings.role_arn, "pipeline_name": settings.pipeline_name,
              "model_package_group": settings.model_package_group, "prefix": settings.prefix}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AIRFLOW_CONN_AWS_DEFAULT", aws_connection_uri_json(endpoint))
        task = UpsertPipelineOperator(task_id="upsert", declaration=CLASSIFICATION, settings_variable="unused",
                                      region_name=settings.region)
        return dict(task.upsert(values, "the test's settings"))


def put_day(s3: Any, bucket: str, prefix: str, day: date, fault: str | None = None, *, rows: int | None = None,
            seed: int | None = None) -> str:
    """A day of sample data under `prefix`, with a data fault when given (`DataFault` syntax, seeded with `seed`,
    else the day); its s3:// folder."""
    from devtools.sample_data.data_faults import DataFault
    from devtools.sample_data.partitions import daily_partition

    frame = daily_partition(day, rows) if rows else daily_partition(day)
    if fault:
        frame = DataFault.parse(fault).apply(frame, seed=day.toordinal() if seed is None else seed)
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    s3.put_object(Bucket=bucket, Key=f"{prefix}/ds={day.isoformat()}/dataset.csv", Body=buffer.getvalue().encode())
    return f"s3://{bucket}/{prefix}/ds={day.isoformat()}/"
