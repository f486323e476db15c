"""The example pipelines' declarations (include/pipelines/<name>/pipeline.toml), as the tests use them."""

from __future__ import annotations

from pathlib import Path

from airflow_sagemaker_pipelines.declarations import load_declaration
from airflow_sagemaker_pipelines.payloads import MetricSpec

PIPELINES_ROOT = Path(__file__).resolve().parents[2] / "include" / "pipelines"
CLASSIFICATION = load_declaration(PIPELINES_ROOT / "classification")
REGRESSION = load_declaration(PIPELINES_ROOT / "regression")

# The classification pipeline's, as its DAG hands them to the operators.
METRIC_PATHS = CLASSIFICATION.metric_paths
COUNT_PATHS = dict(CLASSIFICATION.counts)
PROVENANCE = dict(CLASSIFICATION.provenance)
AUC: MetricSpec = {"name": "auc", "better": "higher", "range": [0.0, 1.0]}
RMSE: MetricSpec = {"name": "rmse", "better": "lower", "range": [0.0, 1000.0]}


def partition_uri(bucket: str, day: object) -> str:
    """The classification DAG's layout: (bucket, day) -> the day's s3:// prefix."""
    return CLASSIFICATION.partition_uri(bucket, day)  # type: ignore[arg-type]
