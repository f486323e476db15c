"""The last task: report how the run ended (decision, metrics, package, links) on every channel."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, BaseOperator

from ..notifications import console_url, notifications_enabled, report_unchanged_runs, send_report
from ..payloads import ApprovalResult, Decision, Evaluation, ModelReview, RunSummary

if TYPE_CHECKING:
    from airflow.sdk import Context


class NotifyRunOperator(BaseOperator):
    """Build the run's report from what its tasks returned and send it; fails if a configured channel fails.

    The outcome is the approval task's: approved, rejected (GATE FAILED when the pipeline's own
    gate said no), not promoted, or unchanged (a re-run of a day decided before: reported once as
    such, or not sent when the Variable `sagemaker_pipelines_report_unchanged` is "false"). Returns
    a RunSummary (multiple outputs) whose `run_note` the plugin's listener writes on the DAG run
    when it ends.

    :param evaluation: ReadEvaluationMetricsOperator's Evaluation (templated; an XComArg).
    :param decision: ModelDecisionBranchOperator's Decision (templated; an XComArg).
    :param approvals: outcome -> the XComArg of the approval task the decision branches to for
        it; only the branch taken is read (the others were skipped and hold nothing).
    :param review: the review task's ModelReview XCom (an XComArg), read when the decision went through it:
        a person's rejection is the run's outcome.
    :param console_link: the start task's console link XCom (templated; an XComArg).
    :param data_day: the day of data the run trained on (templated).
    :param metric: the name of the metric the decision rests on, named first in the report.
    """

    template_fields: Sequence[str] = ("evaluation", "decision", "console_link", "data_day")

    def __init__(
        self,
        *,
        evaluation: Any,
        decision: Any,
        approvals: Mapping[str, Any],
        review: Any = None,
        console_link: Any = None,
        data_day: Any = None,
        metric: str = "auc",
        aws_conn_id: str | None = "aws_default",
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("multiple_outputs", True)
        super().__init__(**kwargs)
        self.evaluation = evaluation
        self.decision = decision
        self.approvals = dict(approvals)
        self.review = review
        self.console_link = console_link
        self.data_day = data_day
        self.metric = metric
        self.aws_conn_id = aws_conn_id

    def execute(self, context: Context) -> RunSummary:
        from ..data_quality import evaluation_violations, violation_line
        from ..run_report import RunReport  # imported here to keep DAG parsing fast

        evaluation: Evaluation = self.evaluation
        decision: Decision = self.decision
        branch = self.approvals.get(decision["outcome"])
        if branch is None:
            raise AirflowException(f"no approval task for the outcome {decision['outcome']!r}: {sorted(self.approvals)}")
        review: ModelReview | None = (self.review.resolve(context) if self.review is not None
                                      and decision["outcome"] in ("approved", "unchanged") else None)
        approval: ApprovalResult = (review or {}).get("result") or branch.resolve(context)
        if not approval:
            raise AirflowException(f"the {decision['outcome']} branch returned nothing")
        outcome = approval["outcome"]
        if outcome == "rejected" and evaluation.get("gate_failure_reason"):
            outcome = "gate_failed"
        report = RunReport(
            dag_id=context["dag"].dag_id,
            run_id=context["run_id"],
            outcome=outcome,
            execution_arn=evaluation["execution_arn"],
            console_url=console_url(self.console_link),
            data_day=self.data_day,
            metrics=dict(evaluation["metrics"]),
            metric=self.metric,
            decision_reason=approval["reason"] or decision["reason"],
            model_package_arn=approval["model_package_arn"],
            model_package_status=approval["approval_status"],
            data_quality=[violation_line(v) for v in evaluation_violations(evaluation)],
        )
        self.log.info("Run report:\n%s", report.message)
        if not notifications_enabled(context):
            self.log.info("Notifications are off for this run (params.notify): nothing sent")
            return {"subject": report.subject, "sent": False, "run_note": report.note}
        if outcome == "unchanged" and not report_unchanged_runs():
            self.log.info("Nothing changed and unchanged runs are not reported: nothing sent")
            return {"subject": report.subject, "sent": False, "run_note": report.note}
        errors = send_report(report, context, self.aws_conn_id)
        if errors:
            raise AirflowException("Notification failed: " + "; ".join(errors))
        return {"subject": report.subject, "sent": True, "run_note": report.note}
