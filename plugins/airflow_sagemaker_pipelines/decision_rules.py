"""Approve, reject, or keep without promoting a candidate model: pure rules over numbers and days.

The decision rests on one metric, higher (AUC) or lower (RMSE) being better. In order:
1. the pipeline's own quality gate said no: rejected;
2. the candidate is already the approved model (its day was decided before): unchanged;
3. the metric is on the wrong side of the threshold: rejected;
4. no approved model yet: approved;
5. the candidate learned from an older day than the champion (a backfill): evaluated, not
   promoted — history never replaces a model trained on newer data;
6. the same day, data and pipeline version as the champion (a re-run): not promoted, nothing new;
7. worse than the champion by more than the margin: rejected; else approved;
8. an approval of a model whose data violates the champion's data-quality baseline (drift, a
   schema change) is a person's to give: without one (auto mode), not promoted, saying so.
A day, data fingerprint or pipeline version that a package did not record is never guessed:
the rules that need it are skipped, and the reason says so. No I/O here: every branch is tested
directly (tests/plugins).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from typing import Any

from airflow.providers.amazon.aws.utils.sagemaker import ApprovalStatus

from .payloads import Champion, Decision, MetricSpec, Outcome, PackageProvenance

_STATUS: dict[Outcome, str] = {
    "approved": ApprovalStatus.APPROVED.value,
    "rejected": ApprovalStatus.REJECTED.value,
    # Evaluated and recorded, left for a person to promote: never the champion by itself.
    "not_promoted": ApprovalStatus.PENDING_MANUAL_APPROVAL.value,
    "unchanged": ApprovalStatus.APPROVED.value,  # it is the champion already, and stays so
}


def _number(name: str, value: Any, bounds: Sequence[float] | None = None) -> float:
    """A finite number (within `bounds` when given); a string, a bool, None or NaN is refused by name (never parsed)."""
    expected = f"a number from {bounds[0]:g} to {bounds[1]:g}" if bounds else "a finite number"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name}={value!r}: expected {expected}")
    if not math.isfinite(value) or (bounds and not bounds[0] <= value <= bounds[1]):
        raise ValueError(f"{name}={value!r}: expected {expected}")
    return float(value)


def _day(name: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}={value!r}: expected a day as YYYY-MM-DD") from None


def _decision(outcome: Outcome, reason: str, champion: Champion | None) -> Decision:
    return {"outcome": outcome, "approval_status": _STATUS[outcome], "reason": reason,
            "champion_arn": champion["arn"] if champion else None,
            "champion_value": champion["value"] if champion else None}


def _same_training(candidate: PackageProvenance, champion: PackageProvenance) -> bool:
    fields = ("data_day", "data_fingerprint", "pipeline_version")
    return all(candidate[f] is not None and candidate[f] == champion[f] for f in fields)


def decide(
    *,
    metric: MetricSpec,
    value: Any,
    threshold: Any,
    margin: Any,
    candidate: PackageProvenance | None = None,
    champion: Champion | None = None,
    gate_failure: str | None = None,
    candidate_status: str | None = None,
    data_drift: Sequence[str] = (),
    person_reviews: bool = False,
) -> Decision:
    """The decision on a candidate whose `metric` is `value`, trained as `candidate` says, against `champion`.

    `data_drift` names the features whose data violates the champion's data-quality baseline; `person_reviews`
    says whether a person answers for an approval (the manual mode)."""
    decision = _decide_on_metric(metric=metric, value=value, threshold=threshold, margin=margin, candidate=candidate,
                                 champion=champion, gate_failure=gate_failure, candidate_status=candidate_status)
    if decision["outcome"] != "approved" or not data_drift:
        return decision
    violated = f"its data violates the champion's data-quality baseline ({', '.join(data_drift)})"
    if person_reviews:
        return {**decision, "reason": f"{decision['reason']}; {violated}: a person decides"}
    return _decision("not_promoted", f"Not promoted: {violated}, and a model trained on such data is approved only "
                                     f"by a person (run the day again with approval_mode manual). The rules alone "
                                     f"would approve it: {decision['reason']}", champion)


def _decide_on_metric(
    *,
    metric: MetricSpec,
    value: Any,
    threshold: Any,
    margin: Any,
    candidate: PackageProvenance | None,
    champion: Champion | None,
    gate_failure: str | None,
    candidate_status: str | None,
) -> Decision:
    name, bounds = metric["name"].upper(), metric.get("range")
    higher = metric["better"] == "higher"
    value = _number(metric["name"], value, bounds)
    threshold = _number(f"{metric['name']} threshold", threshold, bounds)
    margin = _number(f"{metric['name']} margin", margin, (0.0, math.inf))
    candidate = candidate or {"data_day": None, "pipeline_version": None, "data_fingerprint": None}
    candidate_day = _day("candidate data_day", candidate["data_day"])
    if gate_failure:
        return _decision("rejected", f"The pipeline's quality gate rejected the model: {gate_failure}", champion)
    if candidate_status == ApprovalStatus.APPROVED.value:
        return _decision("unchanged", f"This day's model is already the approved model ({name} {value:.4f}): "
                                      "nothing changed", None)
    if (value < threshold) if higher else (value > threshold):
        side = "below" if higher else "above"
        return _decision("rejected", f"{name} {value:.4f} is {side} the threshold {threshold:.4f}", champion)
    if champion is None:
        return _decision(
            "approved", f"{name} {value:.4f} meets the threshold {threshold:.4f}; no approved model to compare with",
            None)

    champion_value = _number(f"champion {metric['name']}", champion["value"], bounds)
    champion_day = _day("champion data_day", champion["provenance"]["data_day"])
    versus = f"the approved model {champion['arn']} ({name} {champion_value:.4f}"
    versus += f", trained on {champion_day})" if champion_day else ", its data day not recorded)"
    if candidate_day and champion_day and candidate_day < champion_day:
        return _decision(
            "not_promoted",
            f"Evaluated, not promoted: trained on {candidate_day}, older data than {versus}; "
            f"{name} {value:.4f} is kept for the record",
            champion,
        )
    if _same_training(candidate, champion["provenance"]):
        return _decision(
            "not_promoted",
            f"Not promoted: the same data day, data and pipeline version as {versus}; "
            f"nothing new to approve ({name} {value:.4f})",
            champion,
        )
    unknown = "" if candidate_day else "; this model's data day is not recorded"
    if (value < champion_value - margin) if higher else (value > champion_value + margin):
        return _decision(
            "rejected", f"{name} {value:.4f} is worse than {versus} by more than the margin {margin:.4f}{unknown}",
            champion,
        )
    return _decision(
        "approved",
        f"{name} {value:.4f} meets the threshold {threshold:.4f} and is within {margin:.4f} of {versus}{unknown}",
        champion,
    )
