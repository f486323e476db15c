"""statistics.json: what the analyzer computes of each feature ("Schema for Statistics").

`{"version": 0.0, "dataset": {"item_count"}, "features": [...]}`; a feature has `name`,
`inferred_type` and either `numerical_statistics` (`common` {num_present, num_missing}, mean, sum,
std_dev, min, max, `distribution.kll` {buckets, sketch}) or `string_statistics` (`common`,
distinct_count, `distribution.categorical.buckets` [{value, count}]).

Types are Deequ's (analyzers/DataType.scala, StatefulDataType.scala), which the analyzer is built on:
each non-null value is Fractional, Integral, Boolean or String by the regular expressions below; a
feature is String if any value is (or booleans mix with numbers; the analyzer has no Boolean type,
so booleans alone are String too), else Fractional if any value is, else Integral; Unknown when
every value is missing. std_dev is the population standard deviation (Deequ's StandardDeviation).
A String feature lists its categories (most frequent first) when it has at most 120 distinct
values, Deequ's ColumnProfiler threshold for histograms; above it `distribution` is left out.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

from analyzer_dataset import Dataset
from kll_sketch import KllSketch

FRACTIONAL = re.compile(r"^(-|\+)? ?\d+((\.\d+)|((?:\.\d+)?[Ee][-+]?\d+))$")
INTEGRAL = re.compile(r"^(-|\+)? ?\d+$")
BOOLEAN = re.compile(r"^(true|false)$")
HISTOGRAM_MAX_DISTINCT = 120  # Deequ's ColumnProfiler.DEFAULT_CARDINALITY_THRESHOLD
NUMERIC_TYPES = ("Integral", "Fractional")


def value_type(value: str) -> str:
    if FRACTIONAL.fullmatch(value):  # Scala's `case REGEX(_*)` matches the whole value
        return "Fractional"
    if INTEGRAL.fullmatch(value):
        return "Integral"
    if BOOLEAN.fullmatch(value):
        return "Boolean"
    return "String"


def inferred_type(values: list[str | None]) -> str:
    kinds = Counter(value_type(value) for value in values if value is not None)
    if not kinds:
        return "Unknown"
    if kinds["String"] or kinds["Boolean"]:
        return "String"
    return "Fractional" if kinds["Fractional"] else "Integral"


def number(value: str) -> float:
    """A numeric value as a double; Deequ's patterns allow a space after the sign (`- 5`)."""
    return float(value.replace(" ", ""))


def dataset_statistics(dataset: Dataset) -> dict[str, Any]:
    return {
        "version": 0.0,
        "dataset": {"item_count": dataset.item_count},
        "features": [feature_statistics(name, values) for name, values in dataset.columns.items()],
    }


def feature_statistics(name: str, values: list[str | None]) -> dict[str, Any]:
    kind = inferred_type(values)
    present = [value for value in values if value is not None]
    common = {"num_present": len(present), "num_missing": len(values) - len(present)}
    if kind in NUMERIC_TYPES:
        return {"name": name, "inferred_type": kind, "numerical_statistics": _numerical(common, [number(value) for value in present])}
    return {"name": name, "inferred_type": kind, "string_statistics": _categorical(common, present)}


def _numerical(common: dict[str, int], numbers: list[float]) -> dict[str, Any]:
    total = sum(numbers)
    mean = total / len(numbers)
    sketch = KllSketch()
    for number in numbers:
        sketch.update(number)
    low, high = min(numbers), max(numbers)
    return {
        "common": common,
        "mean": mean,
        "sum": total,
        "std_dev": math.sqrt(sum((number - mean) ** 2 for number in numbers) / len(numbers)),
        "min": low,
        "max": high,
        "distribution": {"kll": {"buckets": sketch.buckets(low, high), "sketch": sketch.to_statistics()}},
    }


def _categorical(common: dict[str, int], present: list[str]) -> dict[str, Any]:
    counts = Counter(present)
    statistics: dict[str, Any] = {"common": common, "distinct_count": float(len(counts))}
    if counts and len(counts) <= HISTOGRAM_MAX_DISTINCT:
        buckets = [{"value": value, "count": count} for value, count in counts.most_common()]
        statistics["distribution"] = {"categorical": {"buckets": buckets}}
    return statistics
