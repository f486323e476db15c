"""Let a person approve, in the Airflow UI, the model the rules would approve (the standard provider's human-in-the-loop)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowFailException
from airflow.providers.standard.operators.branch import BranchMixIn
from airflow.providers.standard.operators.hitl import HITLOperator
from airflow.sdk import Param
from airflow.sdk.definitions.param import ParamsDict

from ..payloads import ApprovalResult, DataQualityViolation, Decision, Evaluation, ModelReview
from .model_decision import DECISION_KEY

if TYPE_CHECKING:
    from airflow.sdk import Context

REVIEW_KEY = "review"
APPROVE, REJECT = "Approve", "Reject"
APPROVAL_MODES = ("auto", "manual")


class ModelReviewOperator(HITLOperator, BranchMixIn):
    """Follow the rules' approval (`auto`), or ask a person first (`manual`).

    Only a candidate the rules approve (or an approved day run again, `unchanged`) reaches this task:
    a model the rules reject is never offered. In `auto` mode, and for `unchanged`, it follows
    `approve_task` at once (the rules keep a model whose data violates the champion's data-quality
    baseline from this task in auto mode; in manual mode the question lists the violations). In
    `manual` mode it asks in the Airflow UI (the run's Required actions:
    the candidate's metric, the champion's, the threshold, the evaluation's other metrics, the
    execution's console link, a comment field) and waits without a worker slot (AWAITING_INPUT);
    the ask is also sent as an AWAITING APPROVAL report with the link to it. **Approve** follows
    `approve_task`, whose reason then names the reviewer and the comment. **Reject**, or no answer
    within the timeout (taken as Reject), sets the package Rejected here, with the reviewer's
    comment or the timeout as the reason, and follows nothing.

    Pushes the decision `approve_task` reads (XCom "decision") and a ModelReview (XCom "review").

    :param decision: ModelDecisionBranchOperator's Decision (templated; an XComArg).
    :param evaluation: ReadEvaluationMetricsOperator's Evaluation (templated; an XComArg).
    :param approval_mode: auto or manual (templated: the form's `approval_mode`).
    :param timeout_hours: how long a person has to answer (templated: the form's `approval_timeout_hours`).
    :param approve_task: the task that approves the package.
    :param metric: the name of the metric the decision rests on.
    :param console_link: the start task's console link XCom (templated; an XComArg).
    """

    inherits_from_skipmixin = True
    template_fields: Sequence[str] = ("subject", "body", "decision", "evaluation", "approval_mode", "timeout_hours",
                                      "console_link")

    def __init__(self, *, decision: Any, evaluation: Any, approval_mode: Any, timeout_hours: Any, approve_task: str,
                 metric: str, console_link: Any = None, aws_conn_id: str | None = "aws_default",
                 **kwargs: Any) -> None:
        # The DAG's params come in kwargs too; HITLOperator keeps only this task's for the reviewer's form.
        params = ParamsDict(kwargs.pop("params", None) or {})
        params["comment"] = Param(None, type=["null", "string"], title="Comment",  # optional: the UI requires a default-less one
                                  description="Why: written into the model package's approval description.")
        super().__init__(
            subject="Approve the model?", options=[APPROVE, REJECT], defaults=[REJECT], multiple=False, params=params,
            # Set from timeout_hours when it asks; given here so that no execution_timeout in default_args is
            # taken for it (HITLOperator's fallback).
            response_timeout=timedelta(hours=24), **kwargs)
        self.decision = decision
        self.evaluation = evaluation
        self.approval_mode = approval_mode
        self.timeout_hours = timeout_hours
        self.approve_task = approve_task
        self.metric = metric
        self.console_link = console_link
        self.aws_conn_id = aws_conn_id

    def execute(self, context: Context) -> Any:
        decision: Decision = self.decision
        mode = str(self.approval_mode)
        if mode not in APPROVAL_MODES:
            raise AirflowFailException(f"approval_mode={mode!r}: expected auto (the rules decide) or manual (a "
                                       "person approves what the rules approve); nothing was approved")
        hours = self._hours()
        if mode == "auto" or decision["outcome"] != "approved":
            self._push(context, decision, {"mode": "auto" if mode == "auto" else "manual", "answer": None,
                                           "reviewer": None, "comment": "", "result": None})
            return self.do_branch(context, self.approve_task)
        self.response_timeout = timedelta(hours=hours)
        self.subject, self.body = self._question(decision)
        self._announce(context, hours)
        return super().execute(context)  # parks the task until a person answers, or the timeout

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        answer = super().execute_complete(context, event)
        decision: Decision = self.decision
        comment = str((answer["params_input"] or {}).get("comment") or "").strip()
        user = answer["responded_by_user"]
        reviewer = (user.get("name") or user.get("id")) if user else None
        said = f": {comment}" if comment else ""
        if APPROVE in answer["chosen_options"]:
            approved: Decision = {**decision, "reason": f"{decision['reason']}; approved in the Airflow UI by "
                                                        f"{reviewer}{said}"}
            self._push(context, approved, {"mode": "manual", "answer": "approved", "reviewer": reviewer,
                                           "comment": comment, "result": None})
            return self.do_branch(context, self.approve_task)
        why = (f"rejected in the Airflow UI by {reviewer}{said}" if reviewer else
               f"no answer in the Airflow UI within {self._hours():g} h: rejected")
        rejected: Decision = {**decision, "outcome": "rejected", "approval_status": "Rejected",
                              "reason": f"{why} (the rules approved it: {decision['reason']})"}
        result = self._reject(context, rejected)
        self._push(context, rejected, {"mode": "manual", "answer": "rejected", "reviewer": reviewer,
                                       "comment": comment, "result": result})
        # Every way on but the approval (the run's report among them): following nothing would skip those too.
        return self.do_branch(context, sorted(self.downstream_task_ids - {self.approve_task}))

    def _hours(self) -> float:
        try:
            hours = float(self.timeout_hours)
        except (TypeError, ValueError):
            hours = float("nan")
        if not 0 < hours <= 24 * 30:
            raise AirflowFailException(f"approval_timeout_hours={self.timeout_hours!r}: expected the hours a person "
                                       "has to answer, above 0 and at most 720; nothing was approved")
        return hours

    def _violations(self) -> list[DataQualityViolation]:
        from ..data_quality import evaluation_violations

        return evaluation_violations(self.evaluation)

    def _question(self, decision: Decision) -> tuple[str, str]:
        """The subject and the Markdown body a reviewer reads."""
        from ..hooks.model_registry import model_package_version
        from ..notifications import console_url

        evaluation: Evaluation = self.evaluation
        basis = decision.get("basis") or {}
        name = self.metric.upper()
        package = str(evaluation["model_package_arn"])
        value, threshold = basis.get("value"), basis.get("threshold")
        champion = decision.get("champion_value")
        violations = self._violations()
        subject = (f"Approve model package {basis.get('model_package_group', '')} v{model_package_version(package)}? "
                   f"{name} {value:.4f}" + (f", champion {champion:.4f}" if champion is not None else ", no champion")
                   + (f"; its data drifted ({', '.join(v['feature'] for v in violations)})" if violations else ""))
        drift = [
            "", "**Its data violates the champion's data-quality baseline**: the rules alone do not approve it.", "",
            "| feature | violation | champion's data | this data |", "|---|---|---|---|",
            *(f"| {v['feature']} | {v['kind']} | {v['baseline'] or 'absent'} | {v['current'] or 'absent'} |"
              for v in violations)] if violations else []
        rows = [f"| {metric} | {number:.4f} |" if isinstance(number, float) else f"| {metric} | {number} |"
                for metric, number in sorted(evaluation["metrics"].items())]
        candidate = basis.get("candidate") or {}
        link = console_url(self.console_link)
        body = "\n".join([
            f"The rules approve this model: {decision['reason']}.", "",
            f"| | {name} |", "|---|---|",
            f"| candidate | {value:.4f} |",
            f"| champion | {f'{champion:.4f}' if champion is not None else 'none yet'} |",
            f"| threshold | {threshold} |",
            f"| margin | {basis.get('margin')} |", *drift, "",
            "Evaluation:", "", "| metric | value |", "|---|---|", *rows, "",
            f"Data day {candidate.get('data_day')}, pipeline version {candidate.get('pipeline_version')}, "
            f"package `{package}`.",
            *(["", f"[The execution in the SageMaker console]({link})"] if link else []), "",
            f"No answer within {self._hours():g} h rejects it. The comment goes into the package's approval "
            "description."])
        return subject, body

    def _announce(self, context: Context, hours: float) -> None:
        """An AWAITING APPROVAL report, on the run report's channels, with the link to the question."""
        from ..data_quality import violation_line
        from ..notifications import notifications_enabled, send_report
        from ..run_report import RunReport

        if not notifications_enabled(context):
            return
        evaluation: Evaluation = self.evaluation
        try:
            link = self.generate_link_to_ui_from_context(context=context)
        except ValueError as error:  # Airflow's [api] base_url is not set: the question is asked all the same
            self.log.warning("The report carries no link to the question (%s): set [api] base_url", error)
            link = "the run's Required actions in the Airflow UI"
        report = RunReport(dag_id=context["dag"].dag_id, run_id=context["run_id"], outcome="awaiting_approval",
                           execution_arn=evaluation["execution_arn"], metrics=dict(evaluation["metrics"]),
                           metric=self.metric, model_package_arn=evaluation["model_package_arn"],
                           decision_reason=f"{self.subject} Approve or reject within {hours:g} h: {link}",
                           data_quality=[violation_line(v) for v in self._violations()])
        for error in send_report(report, context, self.aws_conn_id):
            self.log.error("The approval request was not sent: %s", error)

    def _reject(self, context: Context, rejected: Decision) -> ApprovalResult:
        from ..hooks.model_registry import ModelRegistryHook

        arn = self.evaluation["model_package_arn"]
        run = f"Airflow DAG run {context['dag'].dag_id}/{context['run_id']}"
        package, changed = ModelRegistryHook(aws_conn_id=self.aws_conn_id).set_approval(
            arn, "Rejected", f"{rejected['reason']} ({run})")
        self.log.info("Model package %s rejected: %s", arn, rejected["reason"])
        return {"outcome": "rejected", "reason": rejected["reason"], "model_package_arn": arn,
                "approval_status": package["ModelApprovalStatus"], "changed": changed}

    @staticmethod
    def _push(context: Context, decision: Decision, review: ModelReview) -> None:
        context["ti"].xcom_push(key=DECISION_KEY, value=decision)
        context["ti"].xcom_push(key=REVIEW_KEY, value=review)
