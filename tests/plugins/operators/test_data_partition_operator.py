"""DataPartitionOperator in a DAG run: the run's day, its prefix checked, a fingerprint of its data."""

from __future__ import annotations

from datetime import UTC, datetime

from airflow_sagemaker_pipelines.operators.data_partition import DataPartitionOperator

from include.pipelines.contract import partition_uri
from tests.support.template_fields import assert_template_fields_are_constructor_attributes


def partition_task(bucket: str, input_data_url: str | None = None) -> DataPartitionOperator:
    return DataPartitionOperator(task_id="partition", bucket=bucket, partition_uri=partition_uri,
                                 input_data_url=input_data_url)


def test_the_run_trains_on_its_data_intervals_first_day(run_tasks, seeded_bucket) -> None:
    # This DAG has no schedule: a run's data interval starts at its logical date.
    result = run_tasks(lambda: partition_task(seeded_bucket), logical_date=datetime(2024, 3, 1, tzinfo=UTC))
    partition = result.xcoms[("partition", "return_value")]
    assert partition["data_day"] == "2024-03-01"
    assert partition["input_data_url"] == f"s3://{seeded_bucket}/raw-data/ds=2024-03-01/"
    assert partition["objects"] == 1 and partition["bytes"] > 1000


def test_a_run_without_a_logical_date_takes_the_last_complete_day(run_tasks, seeded_bucket) -> None:
    result = run_tasks(lambda: partition_task(seeded_bucket), run_after=datetime(2024, 3, 2, 6, tzinfo=UTC))
    assert result.xcoms[("partition", "data_day")] == "2024-03-01"


def test_the_fingerprint_changes_when_the_data_does(run_tasks, endpoint_client, seeded_bucket) -> None:
    s3 = endpoint_client("s3")
    prefix = "fingerprint/ds=2024-03-01/"
    s3.put_object(Bucket=seeded_bucket, Key=f"{prefix}part-1.csv", Body=b"a,b\n1,2\n")
    url = f"s3://{seeded_bucket}/{prefix}"
    fingerprints = [run_tasks(lambda: partition_task(seeded_bucket, url)).xcoms[("partition", "data_fingerprint")]]
    fingerprints.append(run_tasks(lambda: partition_task(seeded_bucket, url)).xcoms[("partition", "data_fingerprint")])
    s3.put_object(Bucket=seeded_bucket, Key=f"{prefix}part-1.csv", Body=b"a,b\n1,3\n")
    fingerprints.append(run_tasks(lambda: partition_task(seeded_bucket, url)).xcoms[("partition", "data_fingerprint")])
    assert fingerprints[0] == fingerprints[1] != fingerprints[2]


def test_an_empty_partition_fails_before_anything_starts_naming_the_prefix(run_tasks, seeded_bucket) -> None:
    result = run_tasks(lambda: partition_task(seeded_bucket), logical_date=datetime(2031, 1, 1, tzinfo=UTC))
    assert result.task_states["partition"] == "failed"
    assert f"No data for 2031-01-01 at s3://{seeded_bucket}/raw-data/ds=2031-01-01/" in result.log


def test_template_fields() -> None:
    assert_template_fields_are_constructor_attributes(partition_task("b", "{{ params.input_data_url }}"))
