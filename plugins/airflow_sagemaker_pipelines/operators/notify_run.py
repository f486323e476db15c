"""The last task: report how the run ended (decision, metrics, package, links) on every channel."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, BaseOperator

from ..notifications import console_url_from_xcom, notifications_enabled, send_report

if TYPE_CHECKING:
    from airflow.sdk import Context


class NotifyRunOperator(BaseOperator):
    """Build the run's report from its tasks' XComs and send it; fails if a configured channel fails.

    :param evaluation: ReadEvaluationMetricsOperator's result (templated; an XComArg).
    :param decision_task_id: the ModelDecisionBranchOperator (its XCom key "decision").
    :param approval_task_ids: the approve and reject tasks; the one that ran holds the package status.
    :param start_task_id: the start task (its console link).
    """

    template_fields: Sequence[str] = ("evaluation",)

    def __init__(
        self,
        *,
        evaluation: Any,
        decision_task_id: str,
        approval_task_ids: Sequence[str],
        start_task_id: str,
        aws_conn_id: str | None = "aws_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.evaluation = evaluation
        self.decision_task_id = decision_task_id
        self.approval_task_ids = list(approval_task_ids)
        self.start_task_id = start_task_id
        self.aws_conn_id = aws_conn_id

    def execute(self, context: Context) -> dict[str, Any]:
        from ..run_report import RunReport  # imported here to keep DAG parsing fast

        ti = context["ti"]
        decision = ti.xcom_pull(task_ids=self.decision_task_id, key="decision") or {}
        approvals = [a for a in ti.xcom_pull(task_ids=self.approval_task_ids) or [] if a]
        approval = approvals[0] if approvals else {}
        evaluation = self.evaluation or {}
        report = RunReport(
            dag_id=ti.dag_id,
            run_id=ti.run_id,
            outcome="approved" if decision.get("approved") else "rejected",
            execution_arn=evaluation.get("execution_arn"),
            console_url=console_url_from_xcom(context, self.start_task_id),
            metrics=evaluation.get("metrics") or {},
            decision_reason=decision.get("reason"),
            model_package_arn=approval.get("model_package_arn") or evaluation.get("model_package_arn"),
            model_package_status=approval.get("status"),
        )
        self.log.info("Run report:\n%s", report.message)
        if not notifications_enabled(context):
            self.log.info("Notifications are off for this run (params.notify): nothing sent")
            return {"subject": report.subject, "sent": False}
        errors = send_report(report, context, self.aws_conn_id)
        if errors:
            raise AirflowException("Notification failed: " + "; ".join(errors))
        return {"subject": report.subject, "sent": True}
