"""Read an evaluation report (the JSON an evaluation step writes) into checked metrics.

A report that is missing, not JSON, lacks the AUC, or holds a NaN or out-of-range value is an
error that says which: such a model must never be approved. Where each metric sits in the
report is the pipeline's business: the DAG passes the paths.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    from .payloads import Metrics

MetricPaths = Mapping[str, Sequence[str]]
REQUIRED_METRIC = "auc"  # the decision rests on it


class EvaluationReportError(ValueError):
    """The evaluation report cannot be trusted; the message names the file and the field."""


def _lookup(report: dict[str, Any], path: Sequence[str]) -> tuple[bool, Any]:
    node: Any = report
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return False, None
        node = node[key]
    return True, node


def _fraction(value: Any, path: Sequence[str], source: str) -> float:
    where = ".".join(path)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise EvaluationReportError(f"{source}: {where} is {value!r}, expected a number between 0 and 1")
    number = float(value)
    if math.isnan(number) or not 0.0 <= number <= 1.0:
        raise EvaluationReportError(f"{source}: {where} is {number!r}, expected a number between 0 and 1")
    return number


def parse_evaluation_report(
    text: str | bytes, source: str, metric_paths: MetricPaths, count_paths: MetricPaths | None = None
) -> Metrics:
    """{'auc': float, 'accuracy': ..., 'test_rows': int}; `source` (the S3 URI) goes into every error.

    `metric_paths` maps each metric to its path in the report; "auc" must be there, the others
    may be missing. `count_paths` are whole numbers (rows), kept when present.
    """
    if REQUIRED_METRIC not in metric_paths:
        raise ValueError(f"metric_paths must name where {REQUIRED_METRIC!r} is; got {sorted(metric_paths)}")
    try:
        # NaN and Infinity are not JSON; Python's parser accepts them, so they are caught below.
        report = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise EvaluationReportError(f"{source}: not valid JSON ({error})") from None
    if not isinstance(report, dict):
        raise EvaluationReportError(f"{source}: expected a JSON object, got {type(report).__name__}")
    metrics: dict[str, Any] = {}
    for name, path in metric_paths.items():
        found, value = _lookup(report, path)
        if found:
            metrics[name] = _fraction(value, path, source)
        elif name == REQUIRED_METRIC:
            raise EvaluationReportError(f"{source}: no {'.'.join(path)} in the evaluation report")
    for name, path in (count_paths or {}).items():
        found, value = _lookup(report, path)
        if found and isinstance(value, int) and not isinstance(value, bool):
            metrics[name] = value
    return metrics  # type: ignore[return-value]


def read_evaluation_report(
    s3: S3Hook, uri: str, metric_paths: MetricPaths, count_paths: MetricPaths | None = None
) -> Metrics:
    """One GetObject through the S3 hook: a missing report is an EvaluationReportError naming the URI."""
    bucket, key = s3.parse_s3_url(uri)
    try:
        body = s3.read_key(key, bucket)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NoSuchBucket"):
            raise EvaluationReportError(f"{uri}: the evaluation report does not exist") from None
        raise
    except UnicodeDecodeError as error:
        raise EvaluationReportError(f"{uri}: not valid JSON ({error})") from None
    return parse_evaluation_report(body, uri, metric_paths, count_paths)
