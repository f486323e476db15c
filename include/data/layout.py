"""Where a day's raw data lives: `s3://<bucket>/raw-data/ds=YYYY-MM-DD/`.

Kept free of imports so the DAG file can use it at parse time.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

RAW_PREFIX = "raw-data"


def partition_key(day: date) -> str:
    return f"{RAW_PREFIX}/ds={day.isoformat()}/dataset.csv"


def partition_uri(bucket: str, day: date) -> str:
    """The S3 prefix one DAG run reads: that day's folder."""
    return f"s3://{bucket}/{RAW_PREFIX}/ds={day.isoformat()}/"


def day_of_run(data_interval_start: datetime | None, run_after: datetime) -> date:
    """The day a DAG run trains on: its data interval's first day; a run without a data interval
    (triggered with no logical date) takes the last complete day before it was triggered."""
    if data_interval_start is not None:
        return data_interval_start.date()
    return (run_after - timedelta(days=1)).date()
