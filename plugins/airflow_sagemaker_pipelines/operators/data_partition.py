"""Which data a DAG run trains on: its day, that day's S3 prefix, and a fingerprint of the objects."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import AirflowException

from ..hooks.provider_clients import S3Hook
from ..payloads import DataPartition

if TYPE_CHECKING:
    from airflow.sdk import Context

# (bucket, day) -> the s3:// prefix of that day's data
PartitionLocator = Callable[[str, date], str]


def run_data_day(data_interval_start: datetime | None, run_after: datetime) -> date:
    """The day a run trains on: its data interval's first day; a run without a data interval
    (triggered with no logical date) takes the last complete day before it was triggered."""
    if data_interval_start is not None:
        return data_interval_start.date()
    return (run_after - timedelta(days=1)).date()


def fingerprint(objects: list[dict[str, Any]]) -> str:
    """Changes when an object under the prefix is added, removed or rewritten (its ETag or size)."""
    digest = hashlib.sha256()
    for item in sorted(objects, key=lambda o: o["Key"]):
        digest.update(f"{item['Key']}\0{item.get('ETag', '')}\0{item.get('Size', '')}\n".encode())
    return digest.hexdigest()[:16]


class DataPartitionOperator(AwsBaseOperator[S3Hook]):
    """Choose the run's partition and check that it holds data; returns a DataPartition (multiple outputs).

    An empty or missing partition fails the task with the prefix it looked at (its retries give
    late data time to land), before any SageMaker execution is started.

    :param bucket: the bucket the partitions live in (templated).
    :param partition_uri: the DAG's layout, (bucket, day) -> s3:// prefix.
    :param input_data_url: an s3:// prefix that replaces the day's partition (templated; empty: none).
    """

    aws_hook_class = S3Hook
    template_fields: Sequence[str] = aws_template_fields("bucket", "input_data_url")

    def __init__(
        self, *, bucket: str, partition_uri: PartitionLocator, input_data_url: str | None = None, **kwargs: Any
    ) -> None:
        kwargs.setdefault("multiple_outputs", True)
        super().__init__(**kwargs)
        self.bucket = bucket
        self.partition_uri = partition_uri
        self.input_data_url = input_data_url

    def execute(self, context: Context) -> DataPartition:
        day = run_data_day(context.get("data_interval_start"), context["dag_run"].run_after)
        uri = self.input_data_url or self.partition_uri(self.bucket, day)
        if not uri.startswith("s3://"):
            raise AirflowException(f"input_data_url={uri!r}: expected an s3:// prefix")
        bucket, prefix = self.hook.parse_s3_url(uri)
        objects = [o for o in self.hook.iter_file_metadata(prefix, bucket) if not o["Key"].endswith("/")]
        if not objects:
            raise AirflowException(f"No data for {day} at {uri}: the partition is empty or missing")
        partition: DataPartition = {
            "data_day": day.isoformat(),
            "input_data_url": uri,
            "data_fingerprint": fingerprint(objects),
            "objects": len(objects),
            "bytes": sum(int(o.get("Size", 0)) for o in objects),
        }
        self.log.info("Data for %s: %s (%d objects, %d bytes, fingerprint %s)", day, uri,
                      partition["objects"], partition["bytes"], partition["data_fingerprint"])
        return partition
