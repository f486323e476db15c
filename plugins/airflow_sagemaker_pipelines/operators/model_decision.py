"""Branch on the evaluation: one task per outcome (approve, reject, ...)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, get_args

from airflow.providers.common.compat.sdk import AirflowFailException
from airflow.providers.standard.operators.branch import BaseBranchOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

    from ..payloads import Evaluation

from ..payloads import Outcome

DECISION_KEY = "decision"


class ModelDecisionBranchOperator(BaseBranchOperator):
    """Decide with `model_decision.decide`, push the Decision (XCom key "decision"), follow its branch.

    A DAG reads the decision with `XComArg(decide_task, key=DECISION_KEY)`.

    :param evaluation: ReadEvaluationMetricsOperator's Evaluation (templated; an XComArg).
    :param min_auc_threshold: the lowest acceptable AUC, a number from 0 to 1 (templated).
    :param champion_margin: how much worse than the approved model the candidate may be (templated).
    :param branches: the task to follow for each outcome the rules can reach.
    """

    template_fields: Sequence[str] = ("evaluation", "min_auc_threshold", "champion_margin")

    def __init__(
        self,
        *,
        evaluation: Any,
        min_auc_threshold: Any,
        champion_margin: Any,
        branches: Mapping[Outcome, str],
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        missing = sorted(set(get_args(Outcome)) - set(branches))
        if missing:
            raise ValueError(f"branches has no task for the outcomes {missing}; every outcome needs one")
        self.evaluation = evaluation
        self.min_auc_threshold = min_auc_threshold
        self.champion_margin = champion_margin
        self.branches = dict(branches)

    def choose_branch(self, context: Context) -> str:
        from ..model_decision import decide  # imported here to keep DAG parsing fast

        evaluation: Evaluation = self.evaluation
        if not isinstance(evaluation, dict) or "metrics" not in evaluation:
            raise AirflowFailException(f"evaluation={evaluation!r}: expected ReadEvaluationMetricsOperator's result")
        try:
            decision = decide(
                auc=evaluation["metrics"]["auc"],
                min_auc=self.min_auc_threshold,
                champion_margin=self.champion_margin,
                champion=evaluation["champion"],
                gate_failure=evaluation["gate_failure_reason"],
            )
        except ValueError as error:  # a bad number: retrying gives the same answer, and never an approval
            raise AirflowFailException(f"Cannot decide on the model: {error}") from error
        self.log.info("Decision: %s. %s", decision["approval_status"], decision["reason"])
        context["ti"].xcom_push(key=DECISION_KEY, value=decision)
        return self.branches[decision["outcome"]]
