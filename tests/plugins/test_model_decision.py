"""Approve or reject: the threshold, the champion and its margin, the pipeline's own gate."""

from __future__ import annotations

import pytest
from airflow_sagemaker_pipelines.model_decision import decide

CHAMPION_ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/classification-models/3"


def champion(auc: float) -> dict:
    return {"arn": CHAMPION_ARN, "auc": auc,
            "provenance": {"data_day": None, "pipeline_version": None, "data_fingerprint": None}}


def test_approves_above_threshold_without_champion() -> None:
    decision = decide(auc=0.76, min_auc=0.7, champion_margin=0.02)
    assert decision["outcome"] == "approved" and decision["approval_status"] == "Approved"
    assert "no approved model" in decision["reason"]


def test_rejects_below_threshold() -> None:
    decision = decide(auc=0.69, min_auc=0.7, champion_margin=0.02)
    assert decision["outcome"] == "rejected" and decision["approval_status"] == "Rejected"
    assert decision["reason"] == "AUC 0.6900 is below the threshold 0.7000"


def test_approves_a_challenger_within_the_margin_of_the_champion() -> None:
    decision = decide(auc=0.75, min_auc=0.7, champion_margin=0.02, champion=champion(0.765))
    assert decision["outcome"] == "approved" and CHAMPION_ARN in decision["reason"]
    assert decision["champion_arn"] == CHAMPION_ARN


def test_rejects_a_challenger_worse_than_the_champion_by_more_than_the_margin() -> None:
    decision = decide(auc=0.75, min_auc=0.7, champion_margin=0.02, champion=champion(0.80))
    assert decision["outcome"] == "rejected"
    assert "worse than the approved model" in decision["reason"] and "0.8000" in decision["reason"]


def test_pipeline_gate_failure_is_a_rejection_with_its_reason() -> None:
    decision = decide(auc=0.74, min_auc=0.9, champion_margin=0.02, gate_failure="Model AUC 0.74 is below 0.9")
    assert decision["outcome"] == "rejected" and "Model AUC 0.74 is below 0.9" in decision["reason"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"auc": float("nan")}, "auc"),
        ({"auc": None}, "auc"),
        ({"auc": "0.8"}, "auc"),  # strings are refused, never parsed
        ({"min_auc": "0.7"}, "min_auc_threshold"),
        ({"min_auc": 1.5}, "min_auc_threshold"),
        ({"champion_margin": -0.1}, "champion_margin"),
        ({"champion_margin": True}, "champion_margin"),
        ({"champion": champion(float("nan"))}, "champion auc"),
    ],
)
def test_bad_numbers_never_approve_and_name_the_field(kwargs: dict, field: str) -> None:
    arguments = {"auc": 0.8, "min_auc": 0.7, "champion_margin": 0.02, "champion": None, **kwargs}
    with pytest.raises(ValueError, match=field):
        decide(**arguments)
