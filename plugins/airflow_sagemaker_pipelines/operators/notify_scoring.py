"""Report how a scoring run ended: SCORED (with a warning when the scores shifted) or FAILED, on the run's
note and to people."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .run_leaf_report import RunLeafReportOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

    from ..payloads import ScoringPlan, ScoringResult
    from ..run_report import RunReport


def scoring_summary(plan: ScoringPlan, result: ScoringResult) -> str:
    """What a person reads about the day's scores, the shift warning first when there is one."""
    summary = result["summary"]
    learned = f", learned from {plan['model_data_day']}" if plan["model_data_day"] else ""
    lines = [f"{summary['rows']:,} rows scored by version {plan['model_package_version']}{learned} "
             f"({'the model live for the day' if plan['choice'] == 'live' else 'the newest Approved, as asked'}), "
             f"in {result['seconds']:.0f} s (transform job {result['job_name']}) → {result['scores_uri']}"]
    if summary["positive_share"] is not None:
        lines.append(f"{summary['positive_share']:.1%} flagged positive (score ≥ {plan['positive_threshold']:g}); "
                     f"mean score {summary['mean']:.4f}")
    else:
        lines.append(f"Mean score {summary['mean']:.4f} (from {summary['minimum']:.4g} to {summary['maximum']:.4g})")
    if result["psi"] is None:
        lines.append("No scores of the day before to compare with")
    else:
        lines.append(f"Score shift against {result['previous_day']}: PSI {result['psi']:.3f}")
    if result["shifted"]:
        lines.insert(0, f"WARNING: the scores shifted from {result['previous_day']}'s (PSI {result['psi']:.3f} > "
                        f"{plan['shift_psi']:g}): check the day's data and the model")
    return "\n".join(lines)


class NotifyScoringOperator(RunLeafReportOperator):
    """SCORED or FAILED on the run's note and to people; it fails when the scoring failed (RunLeafReportOperator).

    :param plan: the ScoringPlan (templated; None when no model could be chosen).
    :param result: the ScoringResult (templated; None when the scores were not published).
    """

    template_fields: Sequence[str] = ("plan", "result")

    def __init__(self, *, plan: Any, result: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plan = plan
        self.result = result

    def report(self, context: Context) -> RunReport:
        from ..run_report import RunReport

        plan: ScoringPlan | None = self.plan or None
        result: ScoringResult | None = self.result or None
        failed = self.failed_steps(context)
        metrics: dict[str, Any] = {}
        if result and not failed:
            summary = result["summary"]
            metrics = {"rows": summary["rows"], "mean_score": summary["mean"]}
            if summary["positive_share"] is not None:
                metrics["positive_share"] = summary["positive_share"]
            if result["psi"] is not None:
                metrics["psi"] = result["psi"]
        return RunReport(
            dag_id=context["dag"].dag_id, run_id=context["run_id"], outcome="failed" if failed else "scored",
            console_url=result["console_url"] if result else None,
            data_day=plan["data_day"] if plan else None, metrics=metrics, metric="positive_share",
            decision_reason=scoring_summary(plan, result) if plan and result and not failed else None,
            model_package_arn=plan["model_package_arn"] if plan else None,
            model_package_status="Approved" if plan else None,
            failed_task=failed[0][0] if failed else None,
            error=failed[0][1] if failed else None,
        )
