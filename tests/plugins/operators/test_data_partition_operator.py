"""DataPartitionOperator in a DAG run: the run's day, its prefix waited for, a fingerprint of its data."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from airflow_sagemaker_pipelines.operators.data_partition import DataPartitionOperator

from tests.support.declarations import partition_uri
from tests.support.template_fields import assert_template_fields_are_constructor_attributes


def partition_task(bucket: str, input_data_url: str | None = None, **kwargs: Any) -> DataPartitionOperator:
    return DataPartitionOperator(task_id="partition", bucket=bucket, partition_uri=partition_uri,
                                 input_data_url=input_data_url, **kwargs)


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


def test_an_empty_partition_fails_at_once_when_not_waited_for_naming_the_prefix(run_tasks, seeded_bucket) -> None:
    result = run_tasks(lambda: partition_task(seeded_bucket, retries=3), logical_date=datetime(2024, 2, 1, tzinfo=UTC))
    assert result.task_states["partition"] == "failed"  # not up_for_retry: no retry mends it
    assert f"No data for 2024-02-01 at s3://{seeded_bucket}/raw-data/ds=2024-02-01/: the partition is empty" in result.log


def test_a_partition_that_fills_while_the_run_waits_is_read_once_it_holds_data(
    run_tasks, endpoint_client, seeded_bucket, monkeypatch
) -> None:
    from airflow_sagemaker_pipelines.triggers.data_partition import DataPartitionTrigger

    key = "raw-data/ds=2024-02-02/late.csv"
    looks: list[bool] = []
    holds_data = DataPartitionTrigger._holds_data

    async def data_lands_after_the_first_empty_look(self, hook, client) -> bool:  # on the event, not a guessed delay
        found = await holds_data(self, hook, client)
        looks.append(found)
        if len(looks) == 1 and not found:
            endpoint_client("s3").put_object(Bucket=seeded_bucket, Key=key, Body=b"a,b\n1,2\n")
        return found

    monkeypatch.setattr(DataPartitionTrigger, "_holds_data", data_lands_after_the_first_empty_look)

    result = run_tasks(lambda: partition_task(seeded_bucket, wait_for_data_minutes=5, poll_seconds=0.3),
                       logical_date=datetime(2024, 2, 2, tzinfo=UTC))

    assert result.task_states["partition"] == "success", result.log[-3000:]
    assert result.xcoms[("partition", "objects")] == 1
    assert "No data for 2024-02-02 at" in result.log and "waiting up to 5 min" in result.log
    assert looks == [False, True]  # waited in the trigger, and read the data at its next look


def test_a_partition_still_empty_after_the_wait_fails_at_once_saying_how_long_it_waited(run_tasks, seeded_bucket) -> None:
    result = run_tasks(lambda: partition_task(seeded_bucket, wait_for_data_minutes=0.02, poll_seconds=0.3, retries=3),
                       logical_date=datetime(2024, 2, 3, tzinfo=UTC))
    assert result.task_states["partition"] == "failed"
    assert "No data for 2024-02-03 at" in result.log and "still empty or missing after waiting 0.02 min" in result.log


@pytest.mark.parametrize(("day", "reason"), [
    (date(2024, 1, 15), "The data starts on 2024-02-01: 2024-01-15 is before it"),
    (datetime.now(UTC).date() + timedelta(days=3), "is not over yet"),
])
def test_a_day_without_data_is_refused_with_the_reason(run_tasks, seeded_bucket, day: date, reason: str) -> None:
    # (The test DAG starts on 2024-01-01: an earlier day would get no task at all.)
    result = run_tasks(lambda: partition_task(seeded_bucket, first_day=date(2024, 2, 1), retries=3),
                       logical_date=datetime(day.year, day.month, day.day, tzinfo=UTC))
    assert result.task_states["partition"] == "failed"
    assert reason in result.log


def test_template_fields() -> None:
    assert_template_fields_are_constructor_attributes(
        partition_task("b", "{{ params.input_data_url }}", wait_for_data_minutes="{{ params.wait_for_data_minutes }}"))
