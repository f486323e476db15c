"""Daily partitions `s3://<bucket>/raw-data/ds=YYYY-MM-DD/dataset.csv` from a real data set.

The data is Fair's extramarital affairs survey (Redbook, 1974; 6,366 answers), which the
statsmodels package ships, so nothing is downloaded at run time. The label `had_affair` is
`affairs > 0`. Each day is a different bootstrap sample (seeded by the date, so a day is
reproducible), and optional drift flips a growing share of labels day after day, so that
backfilled runs differ and a long enough drift fails the quality gate.
"""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

from include.pipelines.contract import RAW_PREFIX, partition_key, partition_uri
from include.pipelines.scripts.preprocess import FEATURE_COLUMNS, LABEL_COLUMN

__all__ = ["RAW_PREFIX", "partition_key", "partition_uri", "seed_partitions"]
DEFAULT_ROWS = 2000
DRIFT_START = date(2024, 1, 1)


def source_data() -> Any:
    """The whole data set as a DataFrame: the features and the 0/1 label."""
    from statsmodels.datasets import fair

    frame = fair.load_pandas().data
    frame[LABEL_COLUMN] = (frame["affairs"] > 0).astype(int)
    return frame[[*FEATURE_COLUMNS, LABEL_COLUMN]]


def daily_partition(day: date, rows: int = DEFAULT_ROWS, drift_per_day: float = 0.0, source: Any = None) -> Any:
    """One day's sample. `drift_per_day` is the share of labels flipped per day since DRIFT_START."""
    import numpy as np

    if rows < 20:
        raise ValueError(f"rows={rows}: a partition needs at least 20 rows for a stratified 70/15/15 split")
    if not 0.0 <= drift_per_day <= 0.5:
        raise ValueError(f"drift_per_day={drift_per_day}: allowed 0 to 0.5")
    data = source if source is not None else source_data()
    rng = np.random.default_rng(day.toordinal())
    sample = data.iloc[rng.integers(0, len(data), size=rows)].reset_index(drop=True)
    flip_share = min(0.5, drift_per_day * max(0, (day - DRIFT_START).days))
    if flip_share:
        flips = rng.random(rows) < flip_share
        sample.loc[flips, LABEL_COLUMN] = 1 - sample.loc[flips, LABEL_COLUMN]
    return sample


def seed_partitions(
    s3: Any, bucket: str, first: date, last: date, rows: int = DEFAULT_ROWS, drift_per_day: float = 0.0
) -> list[str]:
    """Write one partition per day from `first` to `last` (inclusive); create the bucket if needed."""
    if last < first:
        raise ValueError(f"last day {last} is before first day {first}")
    try:
        s3.head_bucket(Bucket=bucket)
    except Exception:
        s3.create_bucket(Bucket=bucket)
    data = source_data()
    written = []
    day = first
    while day <= last:
        buffer = io.StringIO()
        daily_partition(day, rows, drift_per_day, data).to_csv(buffer, index=False)
        s3.put_object(Bucket=bucket, Key=partition_key(day), Body=buffer.getvalue().encode())
        written.append(f"s3://{bucket}/{partition_key(day)}")
        day += timedelta(days=1)
    return written
