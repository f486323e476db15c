"""Data-quality violations as people read them, and the decision on a model whose data violates the baseline."""

from __future__ import annotations

import pytest
from airflow_sagemaker_pipelines.data_quality import (
    DataQualityFileError,
    described_violations,
    drift_check_baseline,
    evaluation_violations,
    feature_summaries,
    violation_line,
)
from airflow_sagemaker_pipelines.decision_rules import decide

from tests.support.declarations import AUC


def numeric(name: str, mean: float, sd: float, present: int = 100, missing: int = 0) -> dict:
    return {"name": name, "inferred_type": "Fractional", "numerical_statistics": {
        "common": {"num_present": present, "num_missing": missing}, "mean": mean, "sum": mean * present,
        "std_dev": sd, "min": 0.0, "max": 99.0}}


def text(name: str, distinct: int, present: int = 100, missing: int = 0) -> dict:
    return {"name": name, "inferred_type": "String", "string_statistics": {
        "common": {"num_present": present, "num_missing": missing}, "distinct_count": float(distinct)}}


BASELINE = {"version": 0.0, "dataset": {"item_count": 100},
            "features": [numeric("age", 29.15, 6.79), numeric("educ", 14.2, 2.2), text("occupation", 6)]}
CURRENT = {"version": 0.0, "dataset": {"item_count": 100},
           "features": [numeric("age", 49.53, 6.81), text("educ", 40, present=80, missing=20), text("occupation", 6)]}


def test_each_feature_is_summarized_in_a_few_words() -> None:
    assert feature_summaries(BASELINE) == {"age": "mean 29.15, sd 6.79, 100% present",
                                           "educ": "mean 14.2, sd 2.2, 100% present",
                                           "occupation": "String, 6 distinct, 100% present"}
    assert feature_summaries(CURRENT)["educ"] == "String, 40 distinct, 80% present"
    assert feature_summaries(None) == {}


def test_each_violation_carries_the_features_baseline_and_current_values() -> None:
    violations = {"violations": [
        {"feature_name": "age", "constraint_check_type": "baseline_drift_check",
         "description": "Baseline drift distance: 0.81 exceeds threshold: 0.1"},
        {"feature_name": "educ", "constraint_check_type": "data_type_check",
         "description": "Data type match requirement is not met. Expected: Fractional, Observed: String"},
        {"feature_name": "rate_marriage", "constraint_check_type": "missing_column_check",
         "description": "There are missing columns in current dataset. Number of columns in current dataset: 2"},
    ]}
    described = described_violations(violations, BASELINE, CURRENT)
    assert [(v["feature"], v["kind"]) for v in described] == [
        ("age", "drift"), ("educ", "type change"), ("rate_marriage", "missing column")]
    assert violation_line(described[0]) == ("age: drift (baseline mean 29.15, sd 6.79, 100% present; "
                                            "now mean 49.53, sd 6.81, 100% present)")
    assert violation_line(described[2]) == "rate_marriage: missing column (now absent)"
    assert evaluation_violations({"data_quality": {"violations": described}}) == described  # type: ignore[typeddict-item]
    assert evaluation_violations({"data_quality": None}) == evaluation_violations(None) == []  # type: ignore[typeddict-item]


def test_a_report_without_its_violations_list_is_refused() -> None:
    with pytest.raises(DataQualityFileError, match="no 'violations' list"):
        described_violations({"checks": []}, BASELINE, CURRENT)


def test_a_package_without_both_baseline_files_has_no_baseline() -> None:
    files = {"Statistics": {"S3Uri": "s3://b/stats.json"}, "Constraints": {"S3Uri": "s3://b/constraints.json"}}
    assert drift_check_baseline({"DriftCheckBaselines": {"ModelDataQuality": files}}) == (
        "s3://b/stats.json", "s3://b/constraints.json")
    assert drift_check_baseline({"DriftCheckBaselines": {"ModelDataQuality": {"Statistics": files["Statistics"]}}}) is None
    assert drift_check_baseline({}) is None


def test_drifted_data_keeps_an_approval_from_the_rules_alone() -> None:
    decision = decide(metric=AUC, value=0.80, threshold=0.7, margin=0.02, data_drift=["age"])
    assert decision["outcome"] == "not_promoted" and decision["approval_status"] == "PendingManualApproval"
    assert "violates the champion's data-quality baseline (age)" in decision["reason"]
    assert "approval_mode manual" in decision["reason"] and "no approved model" in decision["reason"]


def test_drifted_data_is_a_persons_to_approve_in_manual_mode() -> None:
    decision = decide(metric=AUC, value=0.80, threshold=0.7, margin=0.02, data_drift=["age", "educ"],
                      person_reviews=True)
    assert decision["outcome"] == "approved"
    assert decision["reason"].endswith("its data violates the champion's data-quality baseline (age, educ): "
                                       "a person decides")


def test_drifted_data_changes_no_rejection() -> None:
    decision = decide(metric=AUC, value=0.60, threshold=0.7, margin=0.02, data_drift=["age"])
    assert decision["outcome"] == "rejected" and "data-quality" not in decision["reason"]


def test_a_monitoring_job_name_keeps_its_day_and_version_and_room_for_an_attempt_whatever_the_endpoint() -> None:
    from datetime import date

    from airflow_sagemaker_pipelines.operators.monitoring_plan import monitoring_job_name

    assert monitoring_job_name("churn", date(2026, 3, 4), 12) == "churn-dq-20260304-v12"
    long = monitoring_job_name("e" * 63, date(2026, 3, 4), 12)
    assert long.endswith("-dq-20260304-v12") and len(f"{long}-20") <= 63
    assert monitoring_job_name("e" * 63, date(2026, 3, 4), 13) != long  # two versions, two jobs


def test_a_notes_first_line_gives_back_the_drifted_features_it_names() -> None:
    from airflow_sagemaker_pipelines.run_notes import noted_drift

    assert noted_drift("**DATA DRIFT** · data 2026-03-04 · DATA DRIFT: age, educ\n\nData quality:\n- age: drift") == [
        "age", "educ"]
    assert noted_drift("**DATA OK** · data 2026-03-04\n\nDATA DRIFT: not on the first line") == []
    assert noted_drift(None) == []
