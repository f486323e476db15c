"""Which data a DAG run trains on: its day, that day's S3 prefix, and a fingerprint of the objects.

A day the DAG cannot train on (before its first day of data, or not over yet) is refused with the
reason; a partition that is still empty is waited for, in the triggerer, up to a set time, then
refused with the reason: none of these mends itself with a retry.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from ..hooks.provider_clients import S3Hook
from ..payloads import DataPartition

if TYPE_CHECKING:
    from airflow.sdk import Context

# (bucket, day) -> the s3:// prefix of that day's data; (bucket, None) -> of all the data (not partitioned)
PartitionLocator = Callable[[str, date | None], str]


def run_data_day(data_interval_start: datetime | None, run_after: datetime) -> date:
    """The day a run trains on: its data interval's first day; a run without a data interval
    (triggered with no logical date) takes the last complete day before it was triggered."""
    if data_interval_start is not None:
        return data_interval_start.date()
    return (run_after - timedelta(days=1)).date()


def given_day(value: object) -> date:
    """A day given to a task (data_day), or the task failed naming it: retrying gives the same answer."""
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise AirflowFailException(f"data_day={value!r}: expected a day, YYYY-MM-DD") from None


def fingerprint(objects: list[dict[str, Any]]) -> str:
    """Changes when an object under the prefix is added, removed or rewritten (its ETag or size)."""
    digest = hashlib.sha256()
    for item in sorted(objects, key=lambda o: o["Key"]):
        digest.update(f"{item['Key']}\0{item.get('ETag', '')}\0{item.get('Size', '')}\n".encode())
    return digest.hexdigest()[:16]


def refuse_a_day_without_data(day: date, first_day: date | None, landed: bool = False) -> None:
    """A day before the first day of data, or one not over yet (unless its data is known to have landed),
    fails the task at once with the reason."""
    if first_day is not None and day < first_day:
        raise AirflowFailException(f"The data starts on {first_day}: {day} is before it, there is nothing to "
                                   f"read; trigger a day from {first_day} on")
    if landed:
        return
    today = datetime.now(UTC).date()
    if day >= today:
        raise AirflowFailException(f"{day} is not over yet (today is {today}, UTC): its data is complete once the "
                                   "day has ended; trigger an earlier day")


class DataPartitionOperator(AwsBaseOperator[S3Hook]):
    """Choose the run's partition and check that it holds data; returns a DataPartition (multiple outputs).

    A day before `first_day`, or one not over yet, fails the task at once with the reason. An empty
    or missing partition is waited for in the triggerer (no worker slot held) for up to
    `wait_for_data_minutes`, then fails the task at once, naming the prefix and the wait; no
    SageMaker execution is started for it.

    :param bucket: the bucket the partitions live in (templated).
    :param partition_uri: the DAG's layout, (bucket, day) -> s3:// prefix.
    :param partitioned: whether the data is partitioned by day; if not, every run reads all of it, and its
        data day (what the package records) is the day it was triggered.
    :param input_data_url: an s3:// prefix that replaces the day's partition (templated; empty: none).
    :param first_day: the first day the DAG has data for; earlier days are refused.
    :param wait_for_data_minutes: how long an empty partition is waited for (templated; 0: not at all).
    :param poll_seconds: seconds between two looks at an empty partition.
    :param data_day: the day to train on instead of the run's (templated; YYYY-MM-DD): a new-data run's day,
        which its notifications say has data, so it is not refused for not being over.
    :param check_deadline: check the late-run deadline's Variable first (deadline_alerts.py): a bad one fails the
        run here, before anything starts.
    """

    aws_hook_class = S3Hook
    template_fields: Sequence[str] = aws_template_fields("bucket", "input_data_url", "wait_for_data_minutes",
                                                           "data_day")

    def __init__(
        self, *, bucket: str, partition_uri: PartitionLocator, partitioned: bool = True,
        input_data_url: str | None = None, first_day: date | None = None, wait_for_data_minutes: int | float | str = 0, poll_seconds: float = 60,
        data_day: str | None = None, check_deadline: bool = False, **kwargs: Any,
    ) -> None:
        kwargs.setdefault("multiple_outputs", True)
        super().__init__(**kwargs)
        self.bucket = bucket
        self.partition_uri = partition_uri
        self.partitioned = partitioned
        self.input_data_url = input_data_url
        self.first_day = first_day
        self.wait_for_data_minutes = wait_for_data_minutes
        self.poll_seconds = poll_seconds
        self.data_day = data_day
        self.check_deadline = check_deadline

    def execute(self, context: Context) -> DataPartition:
        if self.check_deadline:
            from airflow.sdk import Variable

            from ..deadline_alerts import DEADLINE_VARIABLE, deadline_hours

            try:
                deadline_hours(Variable.get(DEADLINE_VARIABLE, default=None))
            except ValueError as error:
                raise AirflowFailException(f"{error}; nothing was started") from None
        day = self._day(context)
        if self.partitioned:
            self._refuse_a_day_without_data(day)
        uri = self._uri(day)
        objects = self._objects(uri)
        if objects:
            return self._partition(day, uri, objects)
        minutes = self._wait_minutes()
        if minutes <= 0:
            raise AirflowFailException(f"No data for {day} at {uri}: the partition is empty or missing")
        from ..triggers.data_partition import DataPartitionTrigger

        bucket, prefix = self.hook.parse_s3_url(uri)
        self.log.info("No data for %s at %s yet: waiting up to %g min for it, in the triggerer", day, uri, minutes)
        self.defer(
            trigger=DataPartitionTrigger(bucket=bucket, prefix=prefix, deadline=time.time() + minutes * 60,
                                         poll_interval=self.poll_seconds, aws_conn_id=self.aws_conn_id,
                                         region_name=self.region_name, verify=self.verify,
                                         botocore_config=self.botocore_config),
            method_name="execute_complete",
        )

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> DataPartition:
        day = self._day(context)
        uri = self._uri(day)
        status = (event or {}).get("status")
        if status == "error":  # the API, not the data: a retry waits again
            raise AirflowException(f"Lost sight of {uri} while waiting for its data: {event['message']}")
        objects = self._objects(uri) if status == "found" else []
        if not objects:
            raise AirflowFailException(f"No data for {day} at {uri}: the partition is still empty or missing after "
                                       f"waiting {self._wait_minutes():g} min")
        return self._partition(day, uri, objects)

    def _day(self, context: Context) -> date:
        if self.data_day:
            return given_day(self.data_day)
        if not self.partitioned:
            return context["dag_run"].run_after.date()
        return run_data_day(context.get("data_interval_start"), context["dag_run"].run_after)

    def _refuse_a_day_without_data(self, day: date) -> None:
        refuse_a_day_without_data(day, self.first_day, landed=bool(self.data_day))

    def _uri(self, day: date) -> str:
        uri = self.input_data_url or self.partition_uri(self.bucket, day if self.partitioned else None)
        if not uri.startswith("s3://"):
            raise AirflowFailException(f"input_data_url={uri!r}: expected an s3:// prefix")
        return uri

    def _objects(self, uri: str) -> list[dict[str, Any]]:
        bucket, prefix = self.hook.parse_s3_url(uri)
        return [o for o in self.hook.iter_file_metadata(prefix, bucket) if not o["Key"].endswith("/")]

    def _wait_minutes(self) -> float:
        try:
            minutes = float(self.wait_for_data_minutes or 0)
        except (TypeError, ValueError):
            raise AirflowFailException(f"wait_for_data_minutes={self.wait_for_data_minutes!r}: expected a number "
                                       "of minutes") from None
        if minutes < 0:
            raise AirflowFailException(f"wait_for_data_minutes={minutes:g}: expected 0 or more minutes")
        return minutes

    def _partition(self, day: date, uri: str, objects: list[dict[str, Any]]) -> DataPartition:
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
