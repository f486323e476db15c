"""The classification pipeline's sample days, from a real data set.

The data is Fair's extramarital affairs survey (Redbook, 1974; 6,366 answers), which the
statsmodels package ships, so nothing is downloaded at run time. The label `had_affair` is
`affairs > 0`. Each day is a different bootstrap sample (seeded by the date, so a day is
reproducible), and optional drift flips a growing share of labels day after day, so that
backfilled runs differ and a long enough drift fails the quality gate.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from include.pipelines.classification.scripts.preprocess import FEATURE_COLUMNS, LABEL_COLUMN

DRIFT_START = date(2024, 1, 1)


def source_data() -> Any:
    """The whole data set as a DataFrame: the features and the 0/1 label."""
    from statsmodels.datasets import fair

    frame = fair.load_pandas().data
    frame[LABEL_COLUMN] = (frame["affairs"] > 0).astype(int)
    return frame[[*FEATURE_COLUMNS, LABEL_COLUMN]]


def daily_partition(day: date, rows: int = 2000, drift_per_day: float = 0.0, source: Any = None) -> Any:
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
