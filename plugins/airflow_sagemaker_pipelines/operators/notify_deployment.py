"""Report how a deploy run ended: DEPLOYED, UNCHANGED, ROLLED BACK or FAILED, on the run's note and to people."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .endpoint_checks import ROLLED_BACK
from .run_leaf_report import RunLeafReportOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

    from ..payloads import DeploymentPlan, SmokeTestResult
    from ..run_report import RunReport


class NotifyDeploymentOperator(RunLeafReportOperator):
    """DEPLOYED, UNCHANGED, ROLLED BACK or FAILED on the run's note and to people; it fails when the deployment
    failed or was rolled back (RunLeafReportOperator).

    :param plan: the DeploymentPlan (templated; an XComArg; None when the package was refused).
    :param smoke_test: the SmokeTestResult (templated; None when it did not run).
    :param console_url: the endpoint's console page (templated).
    """

    template_fields: Sequence[str] = ("plan", "smoke_test", "console_url")
    failing = ("failed", "rolled_back")

    def __init__(self, *, plan: Any, smoke_test: Any, console_url: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plan = plan
        self.smoke_test = smoke_test
        self.console_url = console_url

    def report(self, context: Context) -> RunReport:
        from ..run_report import RunReport

        plan: DeploymentPlan | None = self.plan or None
        smoke: SmokeTestResult | None = self.smoke_test or None
        failed = self.failed_steps(context)
        rolled_back = any(ROLLED_BACK in reason for _, reason in failed)
        if failed:
            outcome = "rolled_back" if rolled_back else "failed"
        else:
            outcome = "unchanged" if plan and plan["action"] == "unchanged" else "deployed"
        metrics: dict[str, Any] = {}
        metric = plan["metric"]["name"] if plan else "auc"
        if smoke:
            metrics = {metric: smoke["value"], f"package_{metric}": smoke["package_value"], "p50_ms": smoke["p50_ms"]}
        summary = None
        if plan:
            summary = (f"Endpoint {plan['endpoint_name']}: version {plan['model_package_version']} "
                       f"({plan['action']}; it served {plan['previous_package_arn'] or 'nothing'} before)")
        return RunReport(
            dag_id=context["dag"].dag_id, run_id=context["run_id"], outcome=outcome, console_url=self.console_url,
            data_day=plan["data_day"] if plan else None, metrics=metrics, metric=metric, decision_reason=summary,
            model_package_arn=plan["model_package_arn"] if plan else None,
            model_package_status="Approved" if plan else None,
            failed_task=failed[0][0] if failed and not rolled_back else None,
            error=failed[-1][1] if failed else None,
        )
