"""The review's own checks and question, without a scheduler (the person's answer is tested on the native stack)."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException
from airflow_sagemaker_pipelines.operators.model_review import ModelReviewOperator

DECISION: dict[str, Any] = {
    "outcome": "approved", "approval_status": "Approved", "reason": "AUC 0.8100 meets the threshold 0.7000",
    "champion_arn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/models/1", "champion_value": 0.8,
    "basis": {"metric": {"name": "auc", "better": "higher", "range": [0, 1]}, "value": 0.81, "threshold": 0.7,
              "margin": 0.02, "model_package_group": "models",
              "candidate": {"data_day": "2024-03-02", "pipeline_version": "abc", "data_fingerprint": "f"},
              "candidate_status": "PendingManualApproval", "gate_failure": None}}
EVALUATION: dict[str, Any] = {
    "execution_arn": "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/e",
    "metrics": {"auc": 0.81, "accuracy": 0.78, "test_rows": 600}, "report_uri": "s3://b/e/evaluation.json",
    "model_package_arn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/models/2",
    "model_package_status": "PendingManualApproval", "provenance": DECISION["basis"]["candidate"],
    "gate_failure_reason": None}


def review(**overrides: Any) -> ModelReviewOperator:
    arguments = {"task_id": "review_model", "decision": DECISION, "evaluation": EVALUATION,
                 "approval_mode": "manual", "timeout_hours": 24, "approve_task": "approve_model", "metric": "auc",
                 "console_link": {"region_name": "us-east-1", "aws_domain": "aws.amazon.com", "pipeline_name": "p",
                                  "execution_id": "e"},
                 **overrides}
    return ModelReviewOperator(**arguments)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("approval_mode", "sometimes", "approval_mode='sometimes': expected auto (the rules decide) or manual"),
    ("timeout_hours", 0, "approval_timeout_hours=0: expected the hours a person has to answer, above 0"),
    ("timeout_hours", "soon", "approval_timeout_hours='soon': expected the hours"),
])
def test_a_bad_mode_or_timeout_fails_the_review_naming_it_and_approves_nothing(field, value, message) -> None:
    with pytest.raises(AirflowFailException, match="nothing was approved") as refused:
        review(**{field: value}).execute({})  # refused before anything is read from the context
    assert message in str(refused.value)


def test_the_question_shows_the_candidate_the_champion_the_threshold_and_the_evaluation() -> None:
    subject, body = review()._question(DECISION)  # type: ignore[arg-type]

    assert subject == "Approve model package models v2? AUC 0.8100, champion 0.8000"
    assert "The rules approve this model: AUC 0.8100 meets the threshold 0.7000." in body
    for row in ("| candidate | 0.8100 |", "| champion | 0.8000 |", "| threshold | 0.7 |", "| margin | 0.02 |",
                "| accuracy | 0.7800 |", "| test_rows | 600 |"):
        assert row in body
    assert "No answer within 24 h rejects it." in body
    assert "[The execution in the SageMaker console](https://" in body


def test_a_first_model_is_asked_about_with_no_champion() -> None:
    subject, body = review()._question({**DECISION, "champion_arn": None, "champion_value": None})  # type: ignore[arg-type]
    assert subject.endswith("AUC 0.8100, no champion") and "| champion | none yet |" in body


def test_a_model_whose_data_drifted_is_asked_about_with_each_violated_feature_and_its_values() -> None:
    violation = {"feature": "age", "check": "baseline_drift_check", "kind": "drift", "description": "distance 0.8",
                 "baseline": "mean 29.15, sd 6.79, 100% present", "current": "mean 49.53, sd 6.81, 100% present"}
    quality = {"checked": True, "baseline_arn": DECISION["champion_arn"], "report_uri": "s3://b/v.json",
               "statistics_uri": "s3://b/s.json",
               "violations": [violation, {**violation, "feature": "educ", "kind": "missing column", "current": None}]}
    subject, body = review(evaluation={**EVALUATION, "data_quality": quality})._question(DECISION)  # type: ignore[arg-type]

    assert subject.endswith("champion 0.8000; its data drifted (age, educ)")
    assert "**Its data violates the champion's data-quality baseline**" in body
    assert "| age | drift | mean 29.15, sd 6.79, 100% present | mean 49.53, sd 6.81, 100% present |" in body
    assert "| educ | missing column | mean 29.15, sd 6.79, 100% present | absent |" in body
