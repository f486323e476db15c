"""Approve or reject a candidate model: the threshold, then champion versus challenger.

Pure rules over numbers: no I/O, so every branch is tested directly (tests/plugins).
"""

from __future__ import annotations

import math
from typing import Any

from airflow.providers.amazon.aws.utils.sagemaker import ApprovalStatus

from .payloads import Champion, Decision


def _fraction(name: str, value: Any) -> float:
    """A number between 0 and 1; a string, a bool, None or NaN is refused by name (never parsed)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name}={value!r}: expected a number between 0 and 1")
    if math.isnan(value) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{name}={value!r}: expected a number between 0 and 1")
    return float(value)


def _approve(reason: str, champion: Champion | None) -> Decision:
    return {"outcome": "approved", "approval_status": ApprovalStatus.APPROVED.value, "reason": reason,
            "champion_arn": champion["arn"] if champion else None}


def _reject(reason: str, champion: Champion | None) -> Decision:
    return {"outcome": "rejected", "approval_status": ApprovalStatus.REJECTED.value, "reason": reason,
            "champion_arn": champion["arn"] if champion else None}


def decide(
    *,
    auc: Any,
    min_auc: Any,
    champion_margin: Any,
    champion: Champion | None = None,
    gate_failure: str | None = None,
) -> Decision:
    """Approve when AUC >= min_auc and the champion (if any) is not better by more than the margin.

    `gate_failure` is the pipeline's own quality gate saying no: the decision is then a
    rejection with that reason, whatever the numbers.
    """
    auc = _fraction("auc", auc)
    min_auc = _fraction("min_auc_threshold", min_auc)
    champion_margin = _fraction("champion_margin", champion_margin)
    if gate_failure:
        return _reject(f"The pipeline's quality gate rejected the model: {gate_failure}", champion)
    if auc < min_auc:
        return _reject(f"AUC {auc:.4f} is below the threshold {min_auc:.4f}", champion)
    if champion is None:
        return _approve(f"AUC {auc:.4f} meets the threshold {min_auc:.4f}; no approved model to compare with", None)
    champion_auc = _fraction("champion auc", champion["auc"])
    if auc < champion_auc - champion_margin:
        return _reject(
            f"AUC {auc:.4f} is worse than the approved model {champion['arn']} (AUC {champion_auc:.4f}) "
            f"by more than the margin {champion_margin:.4f}",
            champion,
        )
    return _approve(
        f"AUC {auc:.4f} meets the threshold {min_auc:.4f} and is within {champion_margin:.4f} of "
        f"the approved model {champion['arn']} (AUC {champion_auc:.4f})",
        champion,
    )
