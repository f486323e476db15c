"""A trained, approved and deployed classification model: the deploy DAG's runs, and what its endpoint captured."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from tests.support.dag_runs import dag_runner
from tests.support.declarations import CLASSIFICATION

DEPLOY_DAG_ID = CLASSIFICATION.deploy.dag_id  # type: ignore[union-attr]


@pytest.fixture
def run_deploy_dag(dag_bag, capfd) -> Iterator[Any]:
    yield from dag_runner(dag_bag.dags[DEPLOY_DAG_ID], capfd)


def endpoint_name(deployment: Any) -> str:
    return f"{deployment.pipeline_name}-endpoint"[:40].rstrip("-")  # the default: <pipeline_name>-endpoint, 40 at most


def trained_and_approved(run_training_dag) -> str:
    trained = run_training_dag()
    assert trained.task_states["approve_model"] == "success", trained.task_states
    package = trained.xcoms[("read_metrics", "return_value")]["model_package_arn"]
    [event] = approval_events(trained.run_id)  # what starts the deploy DAG under a scheduler
    assert event["model_package_arn"] == package and event["model_package_version"] == 1
    assert event["data_day"] == "2024-03-01" and event["metric"] == "auc" and 0.5 < event["value"] <= 1
    return package


def captured_records(s3: Any, bucket: str, prefix: str, at_least: int, timeout: float = 60) -> list[dict]:
    """The data capture's records under the prefix (JSON Lines, one object per write), once there are enough."""
    deadline = time.monotonic() + timeout
    while True:
        records = [json.loads(line) for item in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
                   for line in s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read().decode().splitlines()]
        rows = sum(len(record["captureData"]["endpointInput"]["data"].splitlines()) for record in records)
        if rows >= at_least or time.monotonic() > deadline:
            assert rows >= at_least, f"{rows} rows captured under s3://{bucket}/{prefix}, expected {at_least}"
            return records
        time.sleep(0.2)  # the capture writes in the endpoint's background: poll for its objects


def approval_events(run_id: str) -> list[dict]:
    """The extras of the asset events the training run's approval emitted for the deploy DAG's asset."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        return [event.extra for event in session.scalars(
            select(AssetEvent).join(AssetModel, AssetModel.id == AssetEvent.asset_id).where(
                AssetModel.name == f"sagemaker-model-package-group/{CLASSIFICATION.model_package_group}",
                AssetEvent.source_run_id == run_id))]


def captured_on(s3: Any, bucket: str, endpoint: str, day: date) -> None:
    """Today's captured invocations moved to `day`'s folder: the capture is filed by wall-clock time, and a
    monitoring run checks a day that is over."""
    assert day < datetime.now(UTC).date(), f"{day} is not over (in UTC, as the capture is filed)"
    today = f"data-capture/{endpoint}/AllTraffic/{datetime.now(UTC):%Y/%m/%d}/"
    for item in s3.list_objects_v2(Bucket=bucket, Prefix=today).get("Contents", []):
        target = item["Key"].replace(today, f"data-capture/{endpoint}/AllTraffic/{day:%Y/%m/%d}/")
        s3.copy_object(Bucket=bucket, Key=target, CopySource={"Bucket": bucket, "Key": item["Key"]})
        s3.delete_object(Bucket=bucket, Key=item["Key"])
