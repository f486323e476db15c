"""Where a day's raw data lives: `s3://<bucket>/raw-data/ds=YYYY-MM-DD/`.

Kept free of imports so the DAG file can use it at parse time.
"""

from __future__ import annotations

from datetime import date

RAW_PREFIX = "raw-data"


def partition_key(day: date) -> str:
    return f"{RAW_PREFIX}/ds={day.isoformat()}/dataset.csv"


def partition_uri(bucket: str, day: date) -> str:
    """The S3 prefix one DAG run reads: that day's folder."""
    return f"s3://{bucket}/{RAW_PREFIX}/ds={day.isoformat()}/"
