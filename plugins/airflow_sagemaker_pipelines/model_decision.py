"""Approve or reject a candidate model: the threshold, then champion versus challenger."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class ModelDecision:
    approved: bool
    reason: str

    @property
    def status(self) -> str:
        """The model package approval status this decision sets."""
        return "Approved" if self.approved else "Rejected"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status": self.status}


def _fraction(name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}={value!r}: expected a number between 0 and 1") from None
    if math.isnan(number) or not 0.0 <= number <= 1.0:
        raise ValueError(f"{name}={value!r}: expected a number between 0 and 1")
    return number


def decide(
    *,
    auc: Any,
    min_auc: Any,
    champion_margin: Any,
    champion_auc: Any = None,
    champion_arn: str | None = None,
    gate_failure: str | None = None,
) -> ModelDecision:
    """Approve when AUC >= min_auc and the champion (if any) is not better by more than the margin.

    `gate_failure` is the pipeline's own quality gate saying no: the decision is then a
    rejection with that reason, whatever the numbers.
    """
    auc = _fraction("auc", auc)
    min_auc = _fraction("min_auc_threshold", min_auc)
    champion_margin = _fraction("champion_margin", champion_margin)
    if gate_failure:
        return ModelDecision(False, f"The pipeline's quality gate rejected the model: {gate_failure}")
    if auc < min_auc:
        return ModelDecision(False, f"AUC {auc:.4f} is below the threshold {min_auc:.4f}")
    if champion_auc is None:
        return ModelDecision(True, f"AUC {auc:.4f} meets the threshold {min_auc:.4f}; no approved model to compare with")
    champion_auc = _fraction("champion auc", champion_auc)
    if auc < champion_auc - champion_margin:
        return ModelDecision(
            False,
            f"AUC {auc:.4f} is worse than the approved model {champion_arn} (AUC {champion_auc:.4f}) "
            f"by more than the margin {champion_margin:.4f}",
        )
    return ModelDecision(
        True,
        f"AUC {auc:.4f} meets the threshold {min_auc:.4f} and is within {champion_margin:.4f} of "
        f"the approved model {champion_arn} (AUC {champion_auc:.4f})",
    )
