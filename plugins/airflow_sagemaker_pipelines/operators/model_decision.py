"""Branch on the evaluation: compare the candidate with the group's champion, follow the outcome's task."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, get_args

from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import AirflowFailException
from airflow.providers.standard.operators.branch import BranchMixIn

from ..evaluation_report import MetricPaths
from ..hooks.model_registry import ModelRegistryHook
from ..payloads import DecisionBasis, MetricSpec, Outcome

if TYPE_CHECKING:
    from airflow.sdk import Context

    from ..payloads import Evaluation

DECISION_KEY = "decision"


class ModelDecisionBranchOperator(AwsBaseOperator[ModelRegistryHook], BranchMixIn):
    """Decide with `decision_rules.decide` against the group's champion, push the Decision (XCom
    key "decision"), follow the outcome's branch.

    The champion is the group's newest approved package, read now (not when the metrics were
    read). Run it, and the approval tasks, in a pool of one slot: decisions on one group then
    happen one at a time, and the approval task checks the champion again before it approves.
    A DAG reads the decision with `XComArg(decide_task, key=DECISION_KEY)`.

    :param evaluation: ReadEvaluationMetricsOperator's Evaluation (templated; an XComArg).
    :param model_package_group: the group the champion is looked up in (templated).
    :param metric: the metric the decision rests on: its name, which way is better, its range.
    :param threshold: the metric's worst acceptable value (templated).
    :param margin: how much worse than the approved model's the candidate's metric may be (templated).
    :param metric_paths: where the champion's evaluation report keeps each metric.
    :param provenance_keys: PackageProvenance field -> the package's CustomerMetadataProperties key.
    :param branches: the task to follow for each outcome (approved, rejected, not_promoted, unchanged).
    :param approval_mode: auto or manual (templated): whether a person answers for an approval; a model whose data
        violates the champion's data-quality baseline (the evaluation's `data_quality`) is approved only so.
    """

    aws_hook_class = ModelRegistryHook
    template_fields: Sequence[str] = aws_template_fields(
        "evaluation", "model_package_group", "threshold", "margin", "approval_mode")

    def __init__(
        self,
        *,
        evaluation: Any,
        model_package_group: Any,
        metric: MetricSpec,
        threshold: Any,
        margin: Any,
        metric_paths: MetricPaths,
        provenance_keys: Mapping[str, str],
        branches: Mapping[Outcome, str],
        approval_mode: Any = "auto",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        missing = sorted(set(get_args(Outcome)) - set(branches))
        if missing:
            raise ValueError(f"branches has no task for the outcomes {missing}; every outcome needs one")
        self.evaluation = evaluation
        self.model_package_group = model_package_group
        self.metric = metric
        self.threshold = threshold
        self.margin = margin
        self.metric_paths = dict(metric_paths)
        self.provenance_keys = dict(provenance_keys)
        self.branches = dict(branches)
        self.approval_mode = approval_mode

    def execute(self, context: Context) -> Any:
        return self.do_branch(context, self.choose_branch(context))

    def choose_branch(self, context: Context) -> str:
        from ..champion import decide_against_current_champion  # imported here to keep DAG parsing fast
        from ..data_quality import evaluation_violations
        from ..hooks.provider_clients import S3Hook

        evaluation: Evaluation = self.evaluation
        if not isinstance(evaluation, dict) or "metrics" not in evaluation:
            raise AirflowFailException(f"evaluation={evaluation!r}: expected ReadEvaluationMetricsOperator's result")
        basis: DecisionBasis = {
            "metric": self.metric,
            "value": evaluation["metrics"].get(self.metric["name"]),  # type: ignore[typeddict-item]
            "threshold": self.threshold,
            "margin": self.margin,
            "candidate": evaluation["provenance"],
            "candidate_status": evaluation.get("model_package_status"),
            "gate_failure": evaluation["gate_failure_reason"],
            "model_package_group": self.model_package_group,
            "data_drift": sorted({violation["feature"] for violation in evaluation_violations(evaluation)}),
            "person_reviews": self.approval_mode == "manual",
        }
        s3 = S3Hook(aws_conn_id=self.aws_conn_id, region_name=self.region_name, verify=self.verify,
                    config=self.hook.config)
        try:
            decision = decide_against_current_champion(self.hook, s3, basis, evaluation["model_package_arn"],
                                                       self.metric_paths, self.provenance_keys, self.log)
        except ValueError as error:  # a bad number or day: retrying gives the same answer, and never an approval
            raise AirflowFailException(f"Cannot decide on the model: {error}") from error
        self.log.info("Decision: %s (%s). %s", decision["outcome"], decision["approval_status"], decision["reason"])
        context["ti"].xcom_push(key=DECISION_KEY, value=decision)
        return self.branches[decision["outcome"]]
