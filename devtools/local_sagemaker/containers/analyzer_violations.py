"""constraint_violations.json: the current dataset checked against the baseline ("Schema for Violations").

Each violation is `{"feature_name", "constraint_check_type", "description"}`. The checks and when
they fire are the guide's; the thresholds come from the baseline's `monitoring_config`, a feature's
`monitoringConfigOverrides` over it, with the documented defaults where the file leaves one out.
Where each description's wording comes from:
- data_type_check: AWS's, as published outputs show it ("Data type match requirement is not met.
  Expected data type: Integral, Expected match: 100.0%. Observed: Only 99.71751412429379% of data
  is Integral."; percentages are Java doubles of ratio * 100);
- baseline_drift_check: AWS's "Baseline drift distance: <d> exceeds threshold: <t>" (the form AWS's
  samples parse, `distance: (.+) exceeds threshold: (.+)`, in amazon-sagemaker-examples and the
  drift-detection samples);
- categorical_values_check: Deequ's constraint message "Value: <ratio> does not meet the constraint
  requirement!" (AnalysisBasedConstraint.scala; AWS's visualization sample parses it so);
- completeness_check, missing_column_check, extra_column_check: AWS publishes no example; these
  follow the data-type sentence and say the same facts, and may differ from AWS's in their words.
"""

from __future__ import annotations

from typing import Any

from analyzer_dataset import Dataset
from analyzer_statistics import NUMERIC_TYPES, value_type
from container_run import ClientError
from drift_distance import categorical_distance, numerical_distance
from jackson_json import java_double
from kll_sketch import KllSketch

DEFAULT_CONFIG: dict[str, Any] = {  # the defaults "Schema for Constraints" gives each option
    "evaluate_constraints": "Enabled",
    "datatype_check_threshold": 0.1,
    "domain_content_threshold": 0.1,
    "distribution_constraints": {
        "perform_comparison": "Enabled",
        "comparison_threshold": 0.1,
        "comparison_method": "Robust",
        "categorical_comparison_threshold": 0.1,
        "categorical_drift_method": "LInfinity",
    },
}


def find_violations(dataset: Dataset, statistics: dict[str, Any], constraints: dict[str, Any] | None,
                    baseline_statistics: dict[str, Any] | None) -> list[dict[str, str]]:
    baseline_features = {feature["name"]: feature for feature in (constraints or baseline_statistics or {}).get("features", [])}
    constrained = {feature["name"]: feature for feature in (constraints or {}).get("features", [])}
    baseline_stats = {feature["name"]: feature for feature in (baseline_statistics or {}).get("features", [])}
    current = {feature["name"]: feature for feature in statistics["features"]}
    global_config = _merged(DEFAULT_CONFIG, (constraints or {}).get("monitoring_config") or {})
    violations: list[dict[str, str]] = []
    for name in baseline_features:
        if name not in current:
            violations.append(_violation(name, "missing_column_check", (
                f"There are missing columns in current dataset. Number of columns in current dataset: {len(current)}, "
                f"Number of columns in baseline constraints: {len(baseline_features)}")))
            continue
        config = _merged(global_config, constrained.get(name, {}).get("monitoringConfigOverrides") or {})
        if constrained.get(name) and config["evaluate_constraints"] == "Enabled":
            violations.extend(_constraint_checks(constrained[name], dataset.columns[name], dataset.item_count, config))
        if name in baseline_stats and config["distribution_constraints"]["perform_comparison"] == "Enabled":
            violations.extend(_drift_check(baseline_stats[name], current[name], config["distribution_constraints"]))
    for name in current:
        if name not in baseline_features:
            violations.append(_violation(name, "extra_column_check", (
                f"There are extra columns in current dataset. Number of columns in current dataset: {len(current)}, "
                f"Number of columns in baseline constraints: {len(baseline_features)}")))
    return violations


def _constraint_checks(constraint: dict[str, Any], values: list[str | None], item_count: int,
                       config: dict[str, Any]) -> list[dict[str, str]]:
    name = constraint["name"]
    present = [value for value in values if value is not None]
    found = []
    expected_type = constraint.get("inferred_type")
    if expected_type in NUMERIC_TYPES and present:
        accepted = ("Integral",) if expected_type == "Integral" else NUMERIC_TYPES  # an integer is a fractional too
        ratio = sum(1 for value in present if value_type(value) in accepted) / len(present)
        threshold = float(config["datatype_check_threshold"])
        if ratio < threshold:
            found.append(_violation(name, "data_type_check", (
                f"Data type match requirement is not met. Expected data type: {expected_type}, "
                f"Expected match: {_percent(threshold)}%. Observed: Only {_percent(ratio)}% of data is {expected_type}.")))
    expected_completeness = constraint.get("completeness")
    if expected_completeness is not None and item_count:
        completeness = len(present) / item_count
        if completeness < float(expected_completeness):
            found.append(_violation(name, "completeness_check", (
                f"Data completeness requirement is not met. Expected completeness: {_percent(float(expected_completeness))}%. "
                f"Observed: Only {_percent(completeness)}% of data is non-null.")))
    domains = (constraint.get("string_constraints") or {}).get("domains")
    if domains and present:
        known = set(domains)
        ratio = sum(1 for value in present if value in known) / len(present)
        if ratio < float(config["domain_content_threshold"]):
            found.append(_violation(name, "categorical_values_check",
                                    f"Value: {java_double(ratio)} does not meet the constraint requirement!"))
    return found


def _drift_check(baseline: dict[str, Any], current: dict[str, Any], config: dict[str, Any]) -> list[dict[str, str]]:
    method = config["comparison_method"]
    if baseline["inferred_type"] in NUMERIC_TYPES and current["inferred_type"] in NUMERIC_TYPES:
        baseline_sketch, current_sketch = _sketch(baseline), _sketch(current)
        if baseline_sketch is None or current_sketch is None:
            return []
        distance = numerical_distance(baseline_sketch, current_sketch, method)
        threshold = float(config["comparison_threshold"])
    elif baseline["inferred_type"] == "String" and current["inferred_type"] == "String":
        baseline_counts, current_counts = _categories(baseline), _categories(current)
        if not baseline_counts or not current_counts:
            return []
        if config["categorical_drift_method"] != "LInfinity":
            raise ClientError(f"categorical_drift_method {config['categorical_drift_method']!r} (feature {baseline['name']}) "
                              "is not emulated by the local endpoint: its analyzer compares categories with LInfinity")
        distance = categorical_distance(baseline_counts, current_counts, method)
        threshold = float(config["categorical_comparison_threshold"])
    else:
        return []  # a changed type is data_type_check's finding
    if distance <= threshold:
        return []
    return [_violation(baseline["name"], "baseline_drift_check",
                       f"Baseline drift distance: {java_double(distance)} exceeds threshold: {java_double(threshold)}")]


def _sketch(feature: dict[str, Any]) -> KllSketch | None:
    statistics = feature.get("numerical_statistics") or {}
    sketch = (statistics.get("distribution") or {}).get("kll", {}).get("sketch")
    if not sketch or not any(sketch.get("data") or []):
        return None
    return KllSketch.from_statistics(sketch)


def _categories(feature: dict[str, Any]) -> dict[str, float]:
    buckets = (feature.get("string_statistics") or {}).get("distribution", {}).get("categorical", {}).get("buckets") or []
    return {str(bucket["value"]): float(bucket["count"]) for bucket in buckets}


def _merged(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        merged[key] = _merged(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
    return merged


def _percent(ratio: float) -> str:
    return java_double(ratio * 100)


def _violation(feature: str, check: str, description: str) -> dict[str, str]:
    return {"feature_name": feature, "constraint_check_type": check, "description": description}
