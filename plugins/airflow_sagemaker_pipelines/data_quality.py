"""Data-quality results as people read them: each violated feature with its baseline and current values.

Model Monitor's data-quality analyzer (the pipeline's QualityCheck step, or a monitoring job) writes
`constraint_violations.json` (`{"violations": [{"feature_name", "constraint_check_type",
"description"}]}`) and the data's `statistics.json` (per feature: `inferred_type`, and
`numerical_statistics` or `string_statistics`, each with `common.num_present`/`num_missing`). The
violation alone says a feature drifted; the two statistics files say from what to what. No I/O
here: the operators read the files through the S3 hook.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .payloads import DataQualityViolation, Evaluation

if TYPE_CHECKING:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

# The analyzer's check types, in a person's words.
CHECK_NAMES = {
    "baseline_drift_check": "drift",
    "data_type_check": "type change",
    "completeness_check": "missing values",
    "missing_column_check": "missing column",
    "extra_column_check": "extra column",
    "categorical_values_check": "unknown values",
}


class DataQualityFileError(ValueError):
    """An analyzer's file that is missing or not what the analyzer writes."""


def read_json(s3: S3Hook, uri: str, what: str) -> dict[str, Any]:
    """One GetObject: the analyzer's JSON file at `uri`; missing or malformed is a DataQualityFileError."""
    from .evaluation_report import read_s3_text

    try:
        document = json.loads(read_s3_text(s3, uri, f"the {what}", DataQualityFileError))
    except json.JSONDecodeError as error:
        raise DataQualityFileError(f"{uri}: the {what} is not valid JSON ({error})") from None
    if not isinstance(document, dict):
        raise DataQualityFileError(f"{uri}: the {what} is not a JSON object")
    return document


def read_violations(s3: S3Hook, report_uri: str, baseline_statistics_uri: str | None,
                    current_statistics_uri: str | None) -> list[DataQualityViolation]:
    """The analyzer's violation report, each violated feature described with its baseline and current values
    (from the two statistics files, when given)."""
    return described_violations(
        read_json(s3, report_uri, "violation report"),
        read_json(s3, baseline_statistics_uri, "baseline statistics") if baseline_statistics_uri else None,
        read_json(s3, current_statistics_uri, "current statistics") if current_statistics_uri else None)


def drift_check_baseline(package: Mapping[str, Any]) -> tuple[str, str] | None:
    """A described model package's data-quality baseline (statistics, constraints URIs), None when it has none."""
    quality = (package.get("DriftCheckBaselines") or {}).get("ModelDataQuality") or {}
    statistics = (quality.get("Statistics") or {}).get("S3Uri")
    constraints = (quality.get("Constraints") or {}).get("S3Uri")
    return (statistics, constraints) if statistics and constraints else None


def feature_summaries(statistics: Mapping[str, Any] | None) -> dict[str, str]:
    """Each feature of a statistics.json in a few words: `mean 29.2, sd 6.79, 100% present` (numbers), or
    `String, 3 distinct, 98% present` (text)."""
    summaries: dict[str, str] = {}
    for feature in (statistics or {}).get("features") or []:
        if not isinstance(feature, dict) or not feature.get("name"):
            continue
        numbers = feature.get("numerical_statistics")
        text = feature.get("string_statistics")
        common = (numbers or text or {}).get("common") or {}
        present, missing = common.get("num_present") or 0, common.get("num_missing") or 0
        share = f"{present / (present + missing):.0%} present" if present + missing else "no values"
        if numbers:
            summary = f"mean {numbers.get('mean', 0):.4g}, sd {numbers.get('std_dev', 0):.3g}, {share}"
        else:
            distinct = (text or {}).get("distinct_count")
            summary = f"{feature.get('inferred_type', 'Unknown')}" + (
                f", {distinct:g} distinct" if isinstance(distinct, (int, float)) else "") + f", {share}"
        if feature.get("inferred_type") not in (None, "Fractional", "Integral", "String"):
            summary += f" ({feature['inferred_type']})"
        summaries[str(feature["name"])] = summary
    return summaries


def described_violations(violations: Mapping[str, Any], baseline: Mapping[str, Any] | None,
                         current: Mapping[str, Any] | None) -> list[DataQualityViolation]:
    """The violations of a constraint_violations.json, each with its feature's baseline and current summary
    (None where a file lacks the feature: a missing or an extra column)."""
    items = violations.get("violations")
    if not isinstance(items, list):
        raise DataQualityFileError("the violation report has no 'violations' list")
    before, now = feature_summaries(baseline), feature_summaries(current)
    described: list[DataQualityViolation] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        feature = str(item.get("feature_name", ""))
        check = str(item.get("constraint_check_type", ""))
        described.append({"feature": feature, "check": check, "kind": CHECK_NAMES.get(check, check),
                          "description": str(item.get("description", "")),
                          "baseline": before.get(feature), "current": now.get(feature)})
    return described


def violation_line(violation: DataQualityViolation) -> str:
    """One violation on one line: `age: drift (baseline mean 29.2, sd 6.79; now mean 49.6, sd 6.79)`."""
    values = []
    if violation["baseline"]:
        values.append(f"baseline {violation['baseline']}")
    values.append(f"now {violation['current']}" if violation["current"] else "now absent")
    return f"{violation['feature']}: {violation['kind']} ({'; '.join(values)})"


def evaluation_violations(evaluation: Evaluation | None) -> list[DataQualityViolation]:
    """The data-quality violations an Evaluation found ([] when there were none, or nothing was checked)."""
    return list(((evaluation or {}).get("data_quality") or {}).get("violations") or [])
