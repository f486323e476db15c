"""Report how a monitoring run ended: DATA OK, DATA DRIFT (each violated feature with its values), NOT CHECKED
(and why) or FAILED, on the run's note and to people."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..data_quality import DataQualityFileError, read_violations, violation_line
from .run_leaf_report import RunLeafReportOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

    from ..payloads import CapturedInput, DataQualityViolation, MonitoringPlan
    from ..run_report import RunReport

VIOLATIONS_EXIT = "CompletedWithViolations"


class NotifyMonitoringOperator(RunLeafReportOperator):
    """The monitoring run's report; it fails when the check failed (RunLeafReportOperator).

    :param plan: the MonitoringPlan (templated; None when none could be made).
    :param captured: the CapturedInput (templated; None when the day had no requests to check).
    :param check: the DataQualityJobOperator's result (templated; None when no check ran).
    """

    template_fields: Sequence[str] = ("plan", "captured", "check")

    def __init__(self, *, plan: Any, captured: Any, check: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plan = plan
        self.captured = captured
        self.check = check

    def report(self, context: Context) -> RunReport:
        from ..run_report import RunReport

        plan: MonitoringPlan | None = self.plan or None
        captured: CapturedInput | None = self.captured or None
        check: dict[str, Any] | None = self.check or None
        failed = self.failed_steps(context)
        violations: list[DataQualityViolation] = []
        if check and captured and not failed:
            try:
                violations = self._violations(check, captured)
            except DataQualityFileError as error:
                failed = [(self.task_id, str(error))]
        if failed:
            outcome, reason = "failed", None
        elif check and captured:
            outcome = "data_drift" if violations else "data_ok"
            reason = (f"{captured['rows']:,} request row(s) of {plan['endpoint_name'] if plan else 'the endpoint'} "
                      f"checked against the baseline of the model it serves (processing job {check['job_name']}): "
                      + (f"{len(violations)} violation(s)" if violations else "no violation"))
        else:
            outcome = "not_checked"
            reason = (plan or {}).get("skip_reason") or (
                f"the endpoint captured no request on {plan['data_day']}" if plan else "no plan")
        return RunReport(
            dag_id=context["dag"].dag_id, run_id=context["run_id"], outcome=outcome,
            data_day=plan["data_day"] if plan else None,
            metrics={"rows": captured["rows"], "violations": len(violations)} if captured and check else {},
            metric="", decision_reason=reason,
            model_package_arn=plan["model_package_arn"] if plan else None,
            model_package_status="deployed" if plan and plan["model_package_arn"] else None,
            failed_task=failed[0][0] if failed else None, error=failed[0][1] if failed else None,
            data_quality=[violation_line(violation) for violation in violations])

    def _violations(self, check: dict[str, Any], captured: CapturedInput) -> list[DataQualityViolation]:
        from ..hooks.provider_clients import S3Hook

        if not str(check["exit_message"]).startswith(VIOLATIONS_EXIT):
            return []
        results = check["results_uri"]
        return read_violations(S3Hook(aws_conn_id=self.aws_conn_id), f"{results}constraint_violations.json",
                               captured["baseline_statistics"], f"{results}statistics.json")
