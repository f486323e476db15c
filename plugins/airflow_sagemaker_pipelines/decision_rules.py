"""Approve, reject, or keep without promoting a candidate model: pure rules over numbers and days.

In order:
1. the pipeline's own quality gate said no: rejected;
2. the candidate is already the approved model (its day was decided before): unchanged;
3. the AUC is below the threshold: rejected;
4. no approved model yet: approved;
5. the candidate learned from an older day than the champion (a backfill): evaluated, not
   promoted — history never replaces a model trained on newer data;
6. the same day, data and pipeline version as the champion (a re-run): not promoted, nothing new;
7. worse than the champion by more than the margin: rejected; else approved.
A day, data fingerprint or pipeline version that a package did not record is never guessed:
the rules that need it are skipped, and the reason says so. No I/O here: every branch is tested
directly (tests/plugins).
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from airflow.providers.amazon.aws.utils.sagemaker import ApprovalStatus

from .payloads import Champion, Decision, Outcome, PackageProvenance

_STATUS: dict[Outcome, str] = {
    "approved": ApprovalStatus.APPROVED.value,
    "rejected": ApprovalStatus.REJECTED.value,
    # Evaluated and recorded, left for a person to promote: never the champion by itself.
    "not_promoted": ApprovalStatus.PENDING_MANUAL_APPROVAL.value,
    "unchanged": ApprovalStatus.APPROVED.value,  # it is the champion already, and stays so
}


def _fraction(name: str, value: Any) -> float:
    """A number between 0 and 1; a string, a bool, None or NaN is refused by name (never parsed)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name}={value!r}: expected a number between 0 and 1")
    if math.isnan(value) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{name}={value!r}: expected a number between 0 and 1")
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
            "champion_arn": champion["arn"] if champion else None}


def _same_training(candidate: PackageProvenance, champion: PackageProvenance) -> bool:
    fields = ("data_day", "data_fingerprint", "pipeline_version")
    return all(candidate[f] is not None and candidate[f] == champion[f] for f in fields)


def decide(
    *,
    auc: Any,
    min_auc: Any,
    champion_margin: Any,
    candidate: PackageProvenance | None = None,
    champion: Champion | None = None,
    gate_failure: str | None = None,
    candidate_status: str | None = None,
) -> Decision:
    """The decision on a candidate with test AUC `auc`, trained as `candidate` says, against `champion`."""
    auc = _fraction("auc", auc)
    min_auc = _fraction("min_auc_threshold", min_auc)
    champion_margin = _fraction("champion_margin", champion_margin)
    candidate = candidate or {"data_day": None, "pipeline_version": None, "data_fingerprint": None}
    candidate_day = _day("candidate data_day", candidate["data_day"])
    if gate_failure:
        return _decision("rejected", f"The pipeline's quality gate rejected the model: {gate_failure}", champion)
    if candidate_status == ApprovalStatus.APPROVED.value:
        return _decision("unchanged", f"This day's model is already the approved model (AUC {auc:.4f}): "
                                      "nothing changed", None)
    if auc < min_auc:
        return _decision("rejected", f"AUC {auc:.4f} is below the threshold {min_auc:.4f}", champion)
    if champion is None:
        return _decision(
            "approved", f"AUC {auc:.4f} meets the threshold {min_auc:.4f}; no approved model to compare with", None)

    champion_auc = _fraction("champion auc", champion["auc"])
    champion_day = _day("champion data_day", champion["provenance"]["data_day"])
    versus = f"the approved model {champion['arn']} (AUC {champion_auc:.4f}"
    versus += f", trained on {champion_day})" if champion_day else ", its data day not recorded)"
    if candidate_day and champion_day and candidate_day < champion_day:
        return _decision(
            "not_promoted",
            f"Evaluated, not promoted: trained on {candidate_day}, older data than {versus}; "
            f"AUC {auc:.4f} is kept for the record",
            champion,
        )
    if _same_training(candidate, champion["provenance"]):
        return _decision(
            "not_promoted",
            f"Not promoted: the same data day, data and pipeline version as {versus}; "
            f"nothing new to approve (AUC {auc:.4f})",
            champion,
        )
    unknown = "" if candidate_day else "; this model's data day is not recorded"
    if auc < champion_auc - champion_margin:
        return _decision(
            "rejected", f"AUC {auc:.4f} is worse than {versus} by more than the margin {champion_margin:.4f}{unknown}",
            champion,
        )
    return _decision(
        "approved",
        f"AUC {auc:.4f} meets the threshold {min_auc:.4f} and is within {champion_margin:.4f} of {versus}{unknown}",
        champion,
    )
