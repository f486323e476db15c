"""Approve or reject: the threshold, the champion and its margin, the pipeline's own gate; higher or lower better."""

from __future__ import annotations

import pytest
from airflow_sagemaker_pipelines.decision_rules import decide

from tests.support.declarations import AUC, RMSE

CHAMPION_ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/classification-models/3"


def provenance(day: str | None = None, version: str | None = "v1", fingerprint: str | None = "f1") -> dict:
    return {"data_day": day, "pipeline_version": version, "data_fingerprint": fingerprint}


def champion(value: float, day: str | None = None, **recorded: str | None) -> dict:
    return {"arn": CHAMPION_ARN, "value": value, "provenance": provenance(day, **recorded)}


def on_auc(auc: object, min_auc: object, champion_margin: object, **context: object) -> dict:
    return decide(metric=AUC, value=auc, threshold=min_auc, margin=champion_margin, **context)  # type: ignore[arg-type]


def on_rmse(rmse: object, max_rmse: object, margin: object, **context: object) -> dict:
    return decide(metric=RMSE, value=rmse, threshold=max_rmse, margin=margin, **context)  # type: ignore[arg-type]


def test_approves_above_threshold_without_champion() -> None:
    decision = on_auc(auc=0.76, min_auc=0.7, champion_margin=0.02)
    assert decision["outcome"] == "approved" and decision["approval_status"] == "Approved"
    assert "no approved model" in decision["reason"]


def test_a_candidate_approved_before_is_unchanged_whatever_the_threshold_says_now() -> None:
    decision = on_auc(auc=0.76, min_auc=0.9, champion_margin=0.02, candidate_status="Approved",
                      champion=champion(0.80))
    assert decision["outcome"] == "unchanged" and decision["approval_status"] == "Approved"
    assert decision["reason"] == "This day's model is already the approved model (AUC 0.7600): nothing changed"


def test_rejects_below_threshold() -> None:
    decision = on_auc(auc=0.69, min_auc=0.7, champion_margin=0.02)
    assert decision["outcome"] == "rejected" and decision["approval_status"] == "Rejected"
    assert decision["reason"] == "AUC 0.6900 is below the threshold 0.7000"


def test_approves_a_challenger_within_the_margin_of_the_champion() -> None:
    decision = on_auc(auc=0.75, min_auc=0.7, champion_margin=0.02, champion=champion(0.765))
    assert decision["outcome"] == "approved" and CHAMPION_ARN in decision["reason"]
    assert decision["champion_arn"] == CHAMPION_ARN


def test_rejects_a_challenger_worse_than_the_champion_by_more_than_the_margin() -> None:
    decision = on_auc(auc=0.75, min_auc=0.7, champion_margin=0.02, champion=champion(0.80))
    assert decision["outcome"] == "rejected"
    assert "worse than the approved model" in decision["reason"] and "0.8000" in decision["reason"]


def test_a_candidate_trained_on_an_older_day_never_replaces_the_champion() -> None:
    decision = on_auc(auc=0.79, min_auc=0.7, champion_margin=0.02, candidate=provenance("2024-03-01"),
                      champion=champion(0.74, "2024-03-06"))
    assert decision["outcome"] == "not_promoted" and decision["approval_status"] == "PendingManualApproval"
    assert "trained on 2024-03-01, older data than the approved model" in decision["reason"]
    assert "trained on 2024-03-06" in decision["reason"] and "AUC 0.7900 is kept for the record" in decision["reason"]


def test_a_newer_day_is_compared_on_auc() -> None:
    better = on_auc(auc=0.79, min_auc=0.7, champion_margin=0.02, candidate=provenance("2024-03-07"),
                    champion=champion(0.74, "2024-03-06"))
    worse = on_auc(auc=0.70, min_auc=0.7, champion_margin=0.02, candidate=provenance("2024-03-07"),
                   champion=champion(0.74, "2024-03-06"))
    assert (better["outcome"], worse["outcome"]) == ("approved", "rejected")


def test_the_same_day_data_and_pipeline_as_the_champion_is_not_approved_again() -> None:
    decision = on_auc(auc=0.74, min_auc=0.7, champion_margin=0.02, candidate=provenance("2024-03-06"),
                      champion=champion(0.74, "2024-03-06"))
    assert decision["outcome"] == "not_promoted"
    assert decision["reason"].startswith("Not promoted: the same data day, data and pipeline version as")


@pytest.mark.parametrize("changed", [{"version": "v2"}, {"fingerprint": "f2"}])
def test_the_same_day_retrained_on_new_data_or_a_new_pipeline_is_compared_on_auc(changed: dict) -> None:
    decision = on_auc(auc=0.75, min_auc=0.7, champion_margin=0.02, candidate=provenance("2024-03-06", **changed),
                      champion=champion(0.74, "2024-03-06"))
    assert decision["outcome"] == "approved"


def test_an_unrecorded_day_is_never_guessed_and_the_reason_says_so() -> None:
    unknown_candidate = on_auc(auc=0.75, min_auc=0.7, champion_margin=0.02, candidate=provenance(None),
                               champion=champion(0.74, "2024-03-06"))
    unknown_champion = on_auc(auc=0.75, min_auc=0.7, champion_margin=0.02, candidate=provenance("2024-03-01"),
                              champion=champion(0.74, None))
    assert unknown_candidate["outcome"] == "approved" and "this model's data day is not recorded" in unknown_candidate["reason"]
    assert unknown_champion["outcome"] == "approved" and "its data day not recorded" in unknown_champion["reason"]


def test_a_gate_failure_or_a_low_auc_is_a_rejection_whatever_the_day() -> None:
    decision = on_auc(auc=0.6, min_auc=0.7, champion_margin=0.02, candidate=provenance("2024-03-01"),
                      champion=champion(0.74, "2024-03-06"))
    assert decision["outcome"] == "rejected"


def test_pipeline_gate_failure_is_a_rejection_with_its_reason() -> None:
    decision = on_auc(auc=0.74, min_auc=0.9, champion_margin=0.02, gate_failure="Model AUC 0.74 is below 0.9")
    assert decision["outcome"] == "rejected" and "Model AUC 0.74 is below 0.9" in decision["reason"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"auc": float("nan")}, "auc"),
        ({"auc": None}, "auc"),
        ({"auc": "0.8"}, "auc"),  # strings are refused, never parsed
        ({"min_auc": "0.7"}, "auc threshold"),
        ({"min_auc": 1.5}, "auc threshold"),
        ({"champion_margin": -0.1}, "auc margin"),
        ({"champion_margin": True}, "auc margin"),
        ({"champion": champion(float("nan"))}, "champion auc"),
        ({"candidate": provenance("yesterday")}, "candidate data_day"),
    ],
)
def test_bad_numbers_never_approve_and_name_the_field(kwargs: dict, field: str) -> None:
    arguments = {"auc": 0.8, "min_auc": 0.7, "champion_margin": 0.02, "champion": None, **kwargs}
    with pytest.raises(ValueError, match=field):
        on_auc(**arguments)


def test_lower_is_better_rejects_an_error_above_the_threshold() -> None:
    decision = on_rmse(72.5, 70.0, 2.0)
    assert decision["outcome"] == "rejected" and decision["reason"] == "RMSE 72.5000 is above the threshold 70.0000"


def test_lower_is_better_compares_with_the_champion_the_other_way() -> None:
    within = on_rmse(41.5, 70.0, 2.0, candidate=provenance("2024-03-07"), champion=champion(40.0, "2024-03-06"))
    worse = on_rmse(42.5, 70.0, 2.0, candidate=provenance("2024-03-07"), champion=champion(40.0, "2024-03-06"))
    better = on_rmse(30.0, 70.0, 2.0, candidate=provenance("2024-03-07"), champion=champion(40.0, "2024-03-06"))
    assert (within["outcome"], worse["outcome"], better["outcome"]) == ("approved", "rejected", "approved")
    assert "RMSE 42.5000 is worse than the approved model" in worse["reason"] and "(RMSE 40.0000" in worse["reason"]


def test_a_metric_outside_its_declared_range_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"rmse=-1.0: expected a number from 0 to 1000"):
        on_rmse(-1.0, 70.0, 2.0)
