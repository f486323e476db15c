"""constraints.json: the constraints the analyzer suggests from a dataset's statistics ("Schema for Constraints").

Each feature: `name`, `inferred_type`, `completeness` (the share of rows that have a value),
`num_constraints.is_non_negative` for numbers (min >= 0, Deequ's NonNegativeNumbersRule) and, for a
String feature of few categories, `string_constraints.domains` (its values, most frequent first).
"Few" is Deequ's CategoricalRangeRule, which the analyzer's suggestions come from: the categories
are known (at most 120 distinct values) and at most 10% of them occur only once. Then the
`monitoring_config` the analyzer writes: evaluate_constraints and emit_metrics Enabled,
datatype_check_threshold and domain_content_threshold 1.0, distribution_constraints with
perform_comparison Enabled, comparison_threshold 0.1, comparison_method Robust,
categorical_comparison_threshold 0.1 and categorical_drift_method LInfinity unless the job's
`categorical_drift_method` says otherwise (DefaultModelMonitor.suggest_baseline's
monitoring_config_override).
"""

from __future__ import annotations

from typing import Any

UNIQUE_VALUE_RATIO = 0.1  # CategoricalRangeRule: categories seen once / categories


def suggest_constraints(statistics: dict[str, Any], categorical_drift_method: str | None) -> dict[str, Any]:
    item_count = statistics["dataset"]["item_count"]
    return {
        "version": 0.0,
        "features": [_feature(feature, item_count) for feature in statistics["features"]],
        "monitoring_config": {
            "evaluate_constraints": "Enabled",
            "emit_metrics": "Enabled",
            "datatype_check_threshold": 1.0,
            "domain_content_threshold": 1.0,
            "distribution_constraints": {
                "perform_comparison": "Enabled",
                "comparison_threshold": 0.1,
                "comparison_method": "Robust",
                "categorical_comparison_threshold": 0.1,
                "categorical_drift_method": categorical_drift_method or "LInfinity",
            },
        },
    }


def _feature(feature: dict[str, Any], item_count: int) -> dict[str, Any]:
    statistics = feature.get("numerical_statistics") or feature.get("string_statistics") or {}
    present = statistics.get("common", {}).get("num_present", 0)
    constraint: dict[str, Any] = {
        "name": feature["name"],
        "inferred_type": feature["inferred_type"],
        "completeness": present / item_count if item_count else 0.0,
    }
    if "numerical_statistics" in feature:
        constraint["num_constraints"] = {"is_non_negative": feature["numerical_statistics"]["min"] >= 0.0}
    domains = _domains(feature)
    if domains is not None:
        constraint["string_constraints"] = {"domains": domains}
    return constraint


def _domains(feature: dict[str, Any]) -> list[str] | None:
    if feature["inferred_type"] != "String":
        return None
    buckets = feature["string_statistics"].get("distribution", {}).get("categorical", {}).get("buckets")
    if not buckets:
        return None
    seen_once = sum(1 for bucket in buckets if bucket["count"] == 1)
    if seen_once / len(buckets) > UNIQUE_VALUE_RATIO:
        return None
    return [bucket["value"] for bucket in sorted(buckets, key=lambda bucket: -bucket["count"])]
