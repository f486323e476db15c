"""The last task of a deploy or scoring run: whatever happened before it, the run's note and the report.

Its trigger rule is all_done, so it runs after a failure too; it is the run's leaf, so when the run
did not do its job it fails as well, and the run's state says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, BaseOperator

from ..notifications import notifications_enabled, send_report

if TYPE_CHECKING:
    from airflow.sdk import Context

    from ..run_report import RunReport


class RunLeafReportOperator(BaseOperator):
    """Write the note and send the report `report()` builds; fail when its outcome is one of `failing`.

    :param steps: the run's task ids in order: the first that failed is where the run failed.
    :param aws_conn_id: for SNS.
    """

    failing: Sequence[str] = ("failed",)

    def __init__(self, *, steps: Sequence[str], aws_conn_id: str | None = "aws_default", **kwargs: Any) -> None:
        kwargs.setdefault("trigger_rule", "all_done")
        super().__init__(**kwargs)
        self.steps = list(steps)
        self.aws_conn_id = aws_conn_id

    def report(self, context: Context) -> RunReport:
        raise NotImplementedError

    def failed_steps(self, context: Context) -> list[tuple[str, str]]:
        """The run's failed tasks, in `steps` order, each with its failure's reason."""
        from ..run_failures import failed_tasks, failure_reason

        return [(task_id, failure_reason(context, task_id)) for task_id in failed_tasks(context, self.steps)]

    def execute(self, context: Context) -> dict[str, Any]:
        report = self.report(context)
        context["ti"].xcom_push(key="run_note", value=report.note)
        sent = False
        if notifications_enabled(context):
            errors = send_report(report, context, self.aws_conn_id)
            if errors:
                raise AirflowException(f"the report could not be sent: {'; '.join(errors)}")
            sent = True
        if report.outcome in self.failing:  # this task is the run's leaf: the run fails with it
            raise AirflowFailException(f"{report.title}: {report.error} (reported)")
        return {"subject": report.subject, "sent": sent, "run_note": report.note}
