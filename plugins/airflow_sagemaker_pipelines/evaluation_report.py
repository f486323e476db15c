"""Read evaluation.json (what the EvaluateModel step writes) into checked metrics.

A report that is missing, not JSON, lacks the AUC, or holds a NaN or out-of-range value is an
error that says which: such a model must never be approved.
"""

from __future__ import annotations

import json
import math
from typing import Any

AUC_PATH = ("classification_metrics", "auc_roc", "value")
OPTIONAL_METRICS = ("accuracy", "precision", "recall", "f1")


class EvaluationReportError(ValueError):
    """The evaluation report cannot be trusted; the message names the file and the field."""


def _metric(report: dict[str, Any], path: tuple[str, ...], source: str, required: bool) -> float | None:
    node: Any = report
    for key in path:
        if not isinstance(node, dict) or key not in node:
            if not required:
                return None
            raise EvaluationReportError(f"{source}: no {'.'.join(path)} in the evaluation report")
        node = node[key]
    if isinstance(node, bool) or not isinstance(node, (int, float)):
        raise EvaluationReportError(f"{source}: {'.'.join(path)} is {node!r}, expected a number between 0 and 1")
    value = float(node)
    if math.isnan(value) or not 0.0 <= value <= 1.0:
        raise EvaluationReportError(f"{source}: {'.'.join(path)} is {value!r}, expected a number between 0 and 1")
    return value


def parse_evaluation_report(text: str | bytes, source: str) -> dict[str, Any]:
    """{'auc': float, 'accuracy': ..., ...}; `source` (the S3 URI) goes into every error."""
    try:
        # NaN and Infinity are not JSON; Python's parser accepts them, so they are caught below.
        report = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise EvaluationReportError(f"{source}: not valid JSON ({error})") from None
    if not isinstance(report, dict):
        raise EvaluationReportError(f"{source}: expected a JSON object, got {type(report).__name__}")
    metrics: dict[str, Any] = {"auc": _metric(report, AUC_PATH, source, required=True)}
    for name in OPTIONAL_METRICS:
        value = _metric(report, ("classification_metrics", name, "value"), source, required=False)
        if value is not None:
            metrics[name] = value
    rows = report.get("rows")
    if isinstance(rows, dict) and isinstance(rows.get("test"), int):
        metrics["test_rows"] = rows["test"]
    return metrics
