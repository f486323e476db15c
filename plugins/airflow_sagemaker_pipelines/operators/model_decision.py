"""Branch on the evaluation: approve_model or reject_model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowFailException
from airflow.providers.standard.operators.branch import BaseBranchOperator

if TYPE_CHECKING:
    from airflow.sdk import Context


class ModelDecisionBranchOperator(BaseBranchOperator):
    """Decide with `model_decision.decide`, push the decision (XCom key "decision"), follow its branch.

    :param evaluation: ReadEvaluationMetricsOperator's result (templated; an XComArg).
    :param min_auc_threshold: the lowest acceptable AUC, 0 to 1 (templated).
    :param champion_margin: how much worse than the approved model the candidate may be (templated).
    """

    template_fields: Sequence[str] = ("evaluation", "min_auc_threshold", "champion_margin")

    def __init__(
        self,
        *,
        evaluation: Any,
        min_auc_threshold: Any,
        champion_margin: Any,
        approve_task_id: str,
        reject_task_id: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.evaluation = evaluation
        self.min_auc_threshold = min_auc_threshold
        self.champion_margin = champion_margin
        self.approve_task_id = approve_task_id
        self.reject_task_id = reject_task_id

    def choose_branch(self, context: Context) -> str:
        evaluation = self.evaluation
        if not isinstance(evaluation, dict) or "metrics" not in evaluation:
            raise ValueError(f"evaluation={evaluation!r}: expected ReadEvaluationMetricsOperator's result")
        from ..model_decision import decide  # imported here to keep DAG parsing fast

        champion = evaluation.get("champion") or {}
        try:
            decision = decide(
                auc=evaluation["metrics"].get("auc"),
                min_auc=self.min_auc_threshold,
                champion_margin=self.champion_margin,
                champion_auc=champion.get("auc"),
                champion_arn=champion.get("arn"),
                gate_failure=evaluation.get("gate_failure_reason") if evaluation.get("gate_failed") else None,
            )
        except ValueError as error:  # a bad number: retrying gives the same answer, and never an approval
            raise AirflowFailException(f"Cannot decide on the model: {error}") from error
        self.log.info("Decision: %s. %s", decision.status, decision.reason)
        context["ti"].xcom_push(key="decision", value=decision.as_dict())
        return self.approve_task_id if decision.approved else self.reject_task_id
