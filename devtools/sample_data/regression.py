"""The regression pipeline's sample days, from a real data set.

The data is the diabetes study of Efron et al. (2004; 442 patients: age, sex, BMI, blood pressure
and six blood serum measurements, and disease progression one year later), which scikit-learn
ships, so nothing is downloaded at run time. Each day is a different bootstrap sample (seeded by
the date, so a day is reproducible) with measurement noise on the target; optional drift adds a
growing noise day after day, so that a long enough drift fails the RMSE gate.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from include.pipelines.regression.scripts.preprocess import FEATURE_COLUMNS, TARGET_COLUMN

DRIFT_START = date(2024, 1, 1)
NOISE = 5.0  # the target's measurement noise, in its units


def source_data() -> Any:
    """The whole data set as a DataFrame: the features and the target."""
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(as_frame=True, scaled=False).frame.rename(columns={"target": TARGET_COLUMN})
    return frame[[*FEATURE_COLUMNS, TARGET_COLUMN]]


def daily_partition(day: date, rows: int = 1000, drift_per_day: float = 0.0, source: Any = None) -> Any:
    """One day's sample. `drift_per_day` is the target noise added per day since DRIFT_START, as a share of its
    spread."""
    import numpy as np

    if rows < 20:
        raise ValueError(f"rows={rows}: a partition needs at least 20 rows for a 70/15/15 split")
    if not 0.0 <= drift_per_day <= 0.5:
        raise ValueError(f"drift_per_day={drift_per_day}: allowed 0 to 0.5")
    data = source if source is not None else source_data()
    rng = np.random.default_rng(day.toordinal())
    sample = data.iloc[rng.integers(0, len(data), size=rows)].reset_index(drop=True)
    spread = NOISE + float(data[TARGET_COLUMN].std()) * drift_per_day * max(0, (day - DRIFT_START).days)
    sample[TARGET_COLUMN] = (sample[TARGET_COLUMN] + rng.normal(0.0, spread, rows)).round(1)
    return sample
