"""Read an evaluation report (the JSON an evaluation step writes) into checked metrics.

A report that is missing, not JSON, lacks the metric the decision rests on, or holds a NaN, an
infinite or an out-of-range value is an error that says which: such a model must never be
approved. Where each metric sits in the report, and its range, is the pipeline's declaration's
business: the DAG passes them.
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
MetricRanges = Mapping[str, Sequence[float]]  # metric -> [lowest, highest]


class EvaluationReportError(ValueError):
    """The evaluation report cannot be trusted; the message names the file and the field."""


def _lookup(report: dict[str, Any], path: Sequence[str]) -> tuple[bool, Any]:
    node: Any = report
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return False, None
        node = node[key]
    return True, node


def _number(value: Any, path: Sequence[str], source: str, bounds: Sequence[float] | None) -> float:
    where = ".".join(path)
    expected = f"a number from {bounds[0]:g} to {bounds[1]:g}" if bounds else "a finite number"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise EvaluationReportError(f"{source}: {where} is {value!r}, expected {expected}")
    number = float(value)
    if not math.isfinite(number) or (bounds and not bounds[0] <= number <= bounds[1]):
        raise EvaluationReportError(f"{source}: {where} is {number!r}, expected {expected}")
    return number


def parse_evaluation_report(
    text: str | bytes, source: str, metric_paths: MetricPaths, count_paths: MetricPaths | None = None, *,
    required: str, ranges: MetricRanges | None = None,
) -> Metrics:
    """{'auc': 0.74, 'accuracy': ..., 'test_rows': 300}; `source` (the S3 URI) goes into every error.

    `metric_paths` maps each metric to its path in the report; `required` (the decision's metric)
    must be there, the others may be missing. `ranges` bounds the metrics that have one.
    `count_paths` are whole numbers (rows), kept when present.
    """
    if required not in metric_paths:
        raise ValueError(f"metric_paths must name where {required!r} is; got {sorted(metric_paths)}")
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
            metrics[name] = _number(value, path, source, (ranges or {}).get(name))
        elif name == required:
            raise EvaluationReportError(f"{source}: no {'.'.join(path)} in the evaluation report")
    for name, path in (count_paths or {}).items():
        found, value = _lookup(report, path)
        if found and isinstance(value, int) and not isinstance(value, bool):
            metrics[name] = value
    return metrics


def read_evaluation_report(
    s3: S3Hook, uri: str, metric_paths: MetricPaths, count_paths: MetricPaths | None = None, *,
    required: str, ranges: MetricRanges | None = None,
) -> Metrics:
    """One GetObject through the S3 hook: a missing report is an EvaluationReportError naming the URI."""
    body = read_s3_text(s3, uri, "the evaluation report", EvaluationReportError)
    return parse_evaluation_report(body, uri, metric_paths, count_paths, required=required, ranges=ranges)


def read_s3_text(s3: S3Hook, uri: str, what: str, error: type[ValueError]) -> str:
    """One GetObject through the S3 hook: a missing object, or one that is not text, is `error` naming the URI."""
    bucket, key = s3.parse_s3_url(uri)
    try:
        return s3.read_key(key, bucket)
    except ClientError as failure:
        if failure.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NoSuchBucket"):
            raise error(f"{uri}: {what} does not exist") from None
        raise
    except UnicodeDecodeError as failure:
        raise error(f"{uri}: {what} is not valid JSON ({failure})") from None
