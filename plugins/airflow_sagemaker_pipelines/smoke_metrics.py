"""What a smoke test computes from an endpoint's answers: the metric the package was approved on, and latency.

Pure Python (the Airflow runtime has no scikit-learn): AUC as the Mann-Whitney statistic with tied
scores counted half, RMSE, MAE and accuracy, as the pipelines' evaluation scripts compute them.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Sequence


class SmokeTestError(ValueError):
    """The endpoint's answers cannot be read, or the rows cannot be scored."""


def auc(labels: Sequence[float], scores: Sequence[float]) -> float:
    positives = [s for label, s in zip(labels, scores, strict=True) if label >= 0.5]
    negatives = [s for label, s in zip(labels, scores, strict=True) if label < 0.5]
    if not positives or not negatives:
        raise SmokeTestError("AUC needs held-out rows of both classes")
    ranked = sorted((score, index) for index, score in enumerate(scores))
    ranks = [0.0] * len(scores)
    start = 0
    while start < len(ranked):  # tied scores share their mean rank
        end = start
        while end + 1 < len(ranked) and ranked[end + 1][0] == ranked[start][0]:
            end += 1
        for position in range(start, end + 1):
            ranks[ranked[position][1]] = (start + end) / 2 + 1
        start = end + 1
    positive_ranks = sum(rank for rank, label in zip(ranks, labels, strict=True) if label >= 0.5)
    return (positive_ranks - len(positives) * (len(positives) + 1) / 2) / (len(positives) * len(negatives))


def rmse(labels: Sequence[float], predictions: Sequence[float]) -> float:
    return math.sqrt(sum((p - y) ** 2 for y, p in zip(labels, predictions, strict=True)) / len(labels))


def mae(labels: Sequence[float], predictions: Sequence[float]) -> float:
    return sum(abs(p - y) for y, p in zip(labels, predictions, strict=True)) / len(labels)


def accuracy(labels: Sequence[float], scores: Sequence[float]) -> float:
    return sum((s >= 0.5) == (y >= 0.5) for y, s in zip(labels, scores, strict=True)) / len(labels)


METRICS: dict[str, Callable[[Sequence[float], Sequence[float]], float]] = {
    "auc": auc, "rmse": rmse, "mae": mae, "accuracy": accuracy}


def holdout_rows(text: str, limit: int) -> tuple[list[float], list[str]]:
    """The labels and the feature rows (CSV lines without the label) of held-out rows: CSV, no header, label first."""
    labels, rows = [], []
    for line in csv.reader(io.StringIO(text)):
        if not line:
            continue
        try:
            labels.append(float(line[0]))
        except ValueError:
            raise SmokeTestError(f"held-out row {len(rows) + 1}: the first column {line[0]!r} is not a label "
                                 "(expected CSV without a header, the label first)") from None
        rows.append(",".join(line[1:]))
        if len(rows) >= limit:
            break
    if not rows:
        raise SmokeTestError("no held-out rows")
    return labels, rows


def parse_scores(body: bytes, content_type: str, expected: int) -> list[float]:
    """One number per row from an answer: CSV/lines of numbers, or JSON {"predictions": [{"score": s}, ...]}."""
    text = body.decode("utf-8", "replace").strip()
    try:
        if content_type.startswith("application/json"):
            document = json.loads(text)
            items = document["predictions"] if isinstance(document, dict) else document
            scores = [float(item["score"] if isinstance(item, dict) else item) for item in items]
        else:
            scores = [float(value) for line in text.splitlines() for value in line.split(",") if value.strip()]
    except (ValueError, KeyError, TypeError) as error:
        raise SmokeTestError(f"an answer ({content_type}) is not one number per row: {text[:200]!r} ({error})") from None
    if len(scores) != expected or not all(math.isfinite(score) for score in scores):
        raise SmokeTestError(f"an answer has {len(scores)} finite scores for {expected} rows: {text[:200]!r}")
    return scores


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
