"""Daily sample partitions `s3://<bucket>/<the pipeline's data prefix>/ds=YYYY-MM-DD/dataset.csv`.

Each example pipeline (include/pipelines/<name>) has its sample module here, by the same name,
giving `daily_partition(day, rows, drift_per_day, source)` and `source_data()`; where a day goes is
the pipeline's declaration's.
"""

from __future__ import annotations

import importlib
import io
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from airflow_sagemaker_pipelines.declarations import PipelineDeclaration, load_declaration

from .data_faults import DataFault

PIPELINES_ROOT = Path(__file__).resolve().parents[2] / "include" / "pipelines"
DEFAULT_PIPELINE = "classification"
DEFAULT_ROWS = 2000


def declaration(pipeline: str = DEFAULT_PIPELINE) -> PipelineDeclaration:
    return load_declaration(PIPELINES_ROOT / pipeline)


def sample(pipeline: str = DEFAULT_PIPELINE) -> Any:
    """The pipeline's sample module (devtools/sample_data/<pipeline>.py)."""
    if not (Path(__file__).parent / f"{pipeline}.py").is_file():
        raise ValueError(f"no sample data for the pipeline {pipeline!r}; there is for: {', '.join(sample_pipelines())}")
    return importlib.import_module(f"{__package__}.{pipeline}")


def sample_pipelines() -> list[str]:
    return sorted(path.stem for path in Path(__file__).parent.glob("*.py")
                  if (PIPELINES_ROOT / path.stem / "pipeline.toml").is_file())


def daily_partition(day: date, rows: int = DEFAULT_ROWS, drift_per_day: float = 0.0, source: Any = None,
                    pipeline: str = DEFAULT_PIPELINE) -> Any:
    return sample(pipeline).daily_partition(day, rows, drift_per_day, source)


def partition_key(day: date, pipeline: str = DEFAULT_PIPELINE) -> str:
    """Where the sample data puts a day's file (any object under the day's prefix is read)."""
    return f"{declaration(pipeline).partition_prefix(day)}dataset.csv"


def partition_uri(bucket: str, day: date, pipeline: str = DEFAULT_PIPELINE) -> str:
    """The S3 prefix one DAG run reads: that day's folder."""
    return declaration(pipeline).partition_uri(bucket, day)


def seed_partitions(s3: Any, bucket: str, first: date, last: date, rows: int = DEFAULT_ROWS,
                    drift_per_day: float = 0.0, pipeline: str = DEFAULT_PIPELINE,
                    faults: Sequence[DataFault] = ()) -> list[str]:
    """Write one partition per day from `first` to `last` (inclusive), each with the `faults` (data_faults.py);
    create the bucket if needed."""
    if last < first:
        raise ValueError(f"last day {last} is before first day {first}")
    try:
        s3.head_bucket(Bucket=bucket)
    except Exception:
        s3.create_bucket(Bucket=bucket)
    module = sample(pipeline)
    data = module.source_data()
    written = []
    day = first
    while day <= last:
        buffer = io.StringIO()
        frame = module.daily_partition(day, rows, drift_per_day, data)
        for fault in faults:
            frame = fault.apply(frame, seed=day.toordinal())
        frame.to_csv(buffer, index=False)
        key = partition_key(day, pipeline)
        s3.put_object(Bucket=bucket, Key=key, Body=buffer.getvalue().encode())
        written.append(f"s3://{bucket}/{key}")
        day += timedelta(days=1)
    return written
