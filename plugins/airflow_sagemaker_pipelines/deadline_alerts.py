"""Say so when a training run is late: an Airflow deadline on each run, and the alert its miss sends.

Each training run gets a deadline when it is created: the time it was queued plus the hours the
Variable `sagemaker_pipelines_deadline_hours` says (DEFAULT_HOURS when unset). The scheduler
computes it (`RunQueuedPlusDeadlineHours`, a deadline reference the plugin registers) and, when
the run has not ended by then, the triggerer calls `alert_late_run` once: it finds the run's
execution and its current step in SageMaker and sends a LATE report through the run report's
channels (SNS, email, Slack), naming the run, the execution, the step and how long the run has
been going. A Variable that is not a number of hours fails the run's first check at once, naming
it (the scheduler, which must create the run either way, falls back to the default meanwhile).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk.definitions.deadline import BaseDeadlineReference

log = logging.getLogger(__name__)

DEADLINE_VARIABLE = "sagemaker_pipelines_deadline_hours"
DEFAULT_HOURS = 8.0  # the wait's own timeout is 6 h: a run still going later is stuck somewhere


def deadline_hours(value: object) -> float:
    """The Variable's value as hours; a ValueError naming it and what is allowed otherwise."""
    if value is None or value == "":
        return DEFAULT_HOURS
    try:
        hours = float(str(value).strip())
    except ValueError:
        hours = float("nan")
    if not 0 < hours <= 24 * 7:
        raise ValueError(f"Airflow Variable {DEADLINE_VARIABLE}={value!r} is invalid: expected the hours a training "
                         "run may take before it is reported late, a number above 0 and at most 168, such as 6 or 0.5")
    return hours


class RunQueuedPlusDeadlineHours(BaseDeadlineReference):
    """When the run was queued, plus the deadline Variable's hours (evaluated by the scheduler)."""

    required_kwargs = frozenset({"dag_id", "run_id"})

    def _evaluate_with(self, *, session: Any, dag_id: str, run_id: str, **kwargs: Any) -> datetime | None:
        from airflow.models import DagRun
        from sqlalchemy import select

        queued_at = session.scalar(select(DagRun.queued_at).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
        if queued_at is None:
            return None
        try:
            hours = deadline_hours(_variable_in(session, DEADLINE_VARIABLE))
        except Exception as error:  # never the scheduler's failure: the run's first task fails with a bad value
            log.error("%s; the deadline of %s is %g h", error, run_id, DEFAULT_HOURS)
            hours = DEFAULT_HOURS
        return queued_at + timedelta(hours=hours)


def _variable_in(session: Any, key: str) -> str | None:
    """The Variable from the environment or the metadata DB, through the scheduler's own session.

    Variable.get would open and commit a session of its own inside the scheduler's locked one, which
    the scheduler refuses (and dies of); other secrets backends are not read here.
    """
    import os

    from airflow.models.variable import Variable
    from sqlalchemy import select

    if (value := os.environ.get(f"AIRFLOW_VAR_{key.upper()}")) is not None:
        return value
    found = session.scalar(select(Variable).where(Variable.key == key))
    return found.val if found is not None else None


async def alert_late_run(context: dict[str, Any], pipeline_name: str, settings_variable: str,
                         aws_conn_id: str | None = "aws_default") -> None:
    """The deadline's callback, in the triggerer: one LATE report for the run, with where it is."""
    from asgiref.sync import sync_to_async

    await sync_to_async(send_late_report)(context, pipeline_name, settings_variable, aws_conn_id)


def send_late_report(context: dict[str, Any], pipeline_name: str, settings_variable: str,
                     aws_conn_id: str | None) -> None:
    from .notifications import send_report
    from .run_report import RunReport
    from .timetables import data_day_of_run_id

    run = context.get("dag_run") or {}
    dag_id, run_id = run.get("dag_id", "?"), run.get("dag_run_id") or run.get("run_id", "?")
    queued = _moment(run.get("queued_at")) or _moment(run.get("start_date"))
    running = f"{(datetime.now(UTC) - queued).total_seconds() / 60:.0f} min" if queued else "an unknown time"
    where, execution_arn = _where_the_run_is(dag_id, run_id, pipeline_name, settings_variable, aws_conn_id)
    report = RunReport(dag_id=dag_id, run_id=run_id, outcome="late", execution_arn=execution_arn,
                       data_day=data_day_of_run_id(run_id),
                       error=f"still running {running} after it was queued (deadline "
                             f"{_moment(context.get('deadline', {}).get('deadline_time')) or '?'}): {where}")
    for error in send_report(report, {}, aws_conn_id):
        log.error("Late-run alert not sent: %s", error)


def _where_the_run_is(dag_id: str, run_id: str, pipeline_name: str, settings_variable: str,
                      aws_conn_id: str | None) -> tuple[str, str | None]:
    """What the run's execution is doing, in words, and its ARN (None before it started)."""
    from .execution_identity import run_digest
    from .hooks.pipeline_execution import PipelineExecutionHook

    try:
        from airflow.sdk import Variable

        pipeline_name = (Variable.get(settings_variable, default=None, deserialize_json=True) or {}).get(
            "pipeline_name", pipeline_name)
    except Exception as error:  # the alert goes out with the declared name
        log.warning("Could not read %s: %s", settings_variable, error)
    try:
        hook = PipelineExecutionHook(aws_conn_id=aws_conn_id)
        digest = run_digest(dag_id, run_id)
        mine = [s for s in hook.newest_executions(pipeline_name)
                if digest in (s.get("PipelineExecutionDisplayName") or "")]
        if not mine:
            return f"no execution of {pipeline_name} started yet (the run is before start_execution)", None
        arn = mine[0]["PipelineExecutionArn"]
        steps = hook.list_execution_steps(arn)
        current = [step["StepName"] for step in steps if step.get("StepStatus") in ("Starting", "Executing")]
        status = hook.describe_pipeline_exec(arn)["PipelineExecutionStatus"]
        return (f"execution {arn} is {status}, " + (f"at step {', '.join(current)}" if current
                                                    else "with no step running")), arn
    except Exception as error:  # the alert says the run is late even when SageMaker cannot say where
        return f"where its execution is could not be read ({error})", None


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        try:
            return _moment(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return None
    return None
