"""A training DAG's runs as the model-quality page shows them, read from Airflow's database in a few queries.

Each run's day, metric, threshold, champion, decision, package and data-quality violations are what
its tasks returned (XComs) and its note's first line (the outcome a person reads): the source of
truth the run itself wrote. No AWS call is made here.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, TypedDict

from ..links import SageMakerPipelineExecutionLink
from ..notifications import console_url
from ..run_notes import noted_drift, noted_outcome
from ..timetables import data_day_of_run_id

# The XComs a point is made of: (task_id, key).
READ = (("choose_partition", "return_value"), ("read_metrics", "return_value"), ("decide_model", "decision"),
        ("wait_for_execution", "return_value"), ("start_execution", SageMakerPipelineExecutionLink.key))


class RunPoint(TypedDict):
    """One training run on the page: a point of the chart and a row of the table."""

    run_id: str
    data_day: str | None
    state: str
    outcome: str | None  # approved, rejected, gate_failed, not_promoted, unchanged, failed; None while running
    value: float | None  # the candidate's metric
    threshold: float | None
    champion_value: float | None
    model_package_arn: str | None
    model_package_version: int | None
    execution_arn: str | None
    execution_status: str | None
    duration_seconds: float | None
    drifted_features: list[str]  # data-quality violations of the run's data
    console_url: str | None


class EndpointEvent(TypedDict):
    """A deploy run (which version the endpoint served from when) or a monitoring run (what its requests showed)."""

    dag_id: str
    run_id: str
    day: str | None  # a monitoring run's data day; a deploy run's end, as a day
    ended: str | None
    outcome: str | None  # deployed, rolled_back, unchanged, failed; data_ok, data_drift, not_checked
    model_package_version: int | None
    drifted_features: list[str]
    served_from: str | None  # a deployed version: from its deploy's end to the next deployed version's (None: serving)
    served_to: str | None


def _with_notes() -> Any:
    """The runs' notes loaded in one more query, not one per run (DagRun.note reads a relationship)."""
    from airflow.models import DagRun
    from sqlalchemy.orm import selectinload

    return selectinload(DagRun.dag_run_note)


def endpoint_events(group: str, tag: str, plan_task: str, session: Any) -> list[EndpointEvent]:
    """The runs of the DAGs tagged `tag` (deploy, monitoring) about packages of `group`, oldest first: two queries."""
    from airflow.models import DagRun
    from airflow.models.dag import DagTag
    from airflow.models.xcom import XComModel
    from sqlalchemy import select

    from ..hooks.model_registry import model_package_version

    dag_ids = set(session.scalars(select(DagTag.dag_id).where(DagTag.name == tag)).all())
    if not dag_ids:
        return []
    plans = {(row.dag_id, row.run_id): XComModel.deserialize_value(row) for row in session.scalars(
        select(XComModel).where(XComModel.dag_id.in_(dag_ids), XComModel.task_id == plan_task,
                                XComModel.key == "return_value")).all()}
    runs = session.scalars(select(DagRun).where(DagRun.dag_id.in_(dag_ids)).options(_with_notes())).all()
    events: list[EndpointEvent] = []
    for run in runs:
        plan = plans.get((run.dag_id, run.run_id))
        arn = plan.get("model_package_arn") if isinstance(plan, dict) else None
        if not arn or f":model-package/{group}/" not in arn:
            continue
        ended = run.end_date.isoformat() if isinstance(run.end_date, datetime) else None
        events.append({"dag_id": run.dag_id, "run_id": run.run_id,
                       "day": plan.get("data_day") if tag == "monitoring" else (ended or "")[:10] or None,
                       "ended": ended, "outcome": run_outcome(run.note, str(run.state)),
                       "model_package_version": model_package_version(arn),
                       "drifted_features": noted_drift(run.note),
                       "served_from": None, "served_to": None})
    events.sort(key=lambda event: (event["day"] or "", event["ended"] or ""))
    return served_periods(events) if tag == "deploy" else events


def served_periods(deployments: list[EndpointEvent]) -> list[EndpointEvent]:
    """Each deployed version's time on the endpoint: from its deploy's end to the next deployed version's.

    A rolled-back or failed deploy changed nothing (the endpoint kept the version it served), nor did
    an unchanged one; a deploy still running has no end yet."""
    deployed = [event for event in deployments if event["outcome"] == "deployed" and event["ended"]]
    for index, event in enumerate(deployed):
        following = deployed[index + 1] if index + 1 < len(deployed) else None
        event["served_from"], event["served_to"] = event["ended"], following["ended"] if following else None
    return deployments


def on_days(events: list[EndpointEvent], first: date | None, last: date | None) -> list[EndpointEvent]:
    """The events whose day is within [first, last] (each bound when given), and the deployed versions
    served during some of it."""
    return [event for event in events
            if _within(event["day"], first, last) or _within_served(event, first, last)]


def _within_served(event: EndpointEvent, first: date | None, last: date | None) -> bool:
    start, end = (event["served_from"] or "")[:10], (event["served_to"] or "9999")[:10]
    return bool(start) and (first is None or end >= first.isoformat()) and (last is None or start <= last.isoformat())


def _within(day: str | None, first: date | None, last: date | None) -> bool:
    return (first is None or (day or "") >= first.isoformat()) and (last is None or (day or "9999") <= last.isoformat())


def package_group(points: list[RunPoint]) -> str | None:
    """The registry group of the runs' packages (arn:...:model-package/<group>/<version>)."""
    arn = next((point["model_package_arn"] for point in reversed(points) if point["model_package_arn"]), None)
    return arn.split(":model-package/", 1)[1].rsplit("/", 1)[0] if arn else None


def run_outcome(note: str | None, state: str) -> str | None:
    """The outcome the run's note names first; a run that failed without a note of ours is failed."""
    return noted_outcome(note) or ("failed" if state == "failed" else None)


def decision_metric(dag_id: str, session: Any) -> str | None:
    """The metric the DAG's decisions rest on, as its latest decision names it; None before any decision."""
    from airflow.models.xcom import XComModel
    from sqlalchemy import select

    rows = session.scalars(select(XComModel).where(
        XComModel.dag_id == dag_id, XComModel.task_id == "decide_model", XComModel.key == "decision")
        .order_by(XComModel.timestamp.desc()).limit(1)).all()
    decision = XComModel.deserialize_value(rows[0]) if rows else None
    metric = ((decision or {}).get("basis") or {}).get("metric") if isinstance(decision, dict) else None
    return metric.get("name") if isinstance(metric, dict) else None


def run_points(dag_id: str, metric: str, session: Any) -> list[RunPoint]:
    """Every run of the DAG, oldest data day first."""
    from airflow.models import DagRun
    from airflow.models.xcom import XComModel
    from sqlalchemy import select, tuple_

    runs = session.scalars(select(DagRun).where(DagRun.dag_id == dag_id).options(_with_notes())).all()
    rows = session.scalars(select(XComModel).where(
        XComModel.dag_id == dag_id, tuple_(XComModel.task_id, XComModel.key).in_(READ))).all()
    xcoms: dict[tuple[str, str, str], Any] = {
        (row.run_id, row.task_id, row.key): XComModel.deserialize_value(row) for row in rows}
    points = [_point(run, metric, xcoms) for run in runs]
    return sorted(points, key=lambda point: (point["data_day"] or "", point["run_id"]))


def within(points: list[RunPoint], first: date | None = None, last: date | None = None,
           outcome: str | None = None) -> list[RunPoint]:
    """The points whose data day is within [first, last] and whose outcome is `outcome` (each when given)."""
    return [point for point in points
            if _within(point["data_day"], first, last) and (outcome is None or point["outcome"] == outcome)]


def _point(run: Any, metric: str, xcoms: dict[tuple[str, str, str], Any]) -> RunPoint:
    from ..hooks.model_registry import model_package_version

    def xcom(task_id: str, key: str = "return_value") -> dict[str, Any]:
        value = xcoms.get((run.run_id, task_id, key))
        return value if isinstance(value, dict) else {}

    partition, evaluation, decision = xcom("choose_partition"), xcom("read_metrics"), xcom("decide_model", "decision")
    execution = xcom("wait_for_execution")
    package = evaluation.get("model_package_arn")
    quality = evaluation.get("data_quality") or {}
    day = partition.get("data_day") or _day_of(run)
    started, ended = run.start_date, run.end_date
    value = (evaluation.get("metrics") or {}).get(metric)
    return {
        "run_id": run.run_id, "data_day": day, "state": str(run.state),
        "outcome": run_outcome(run.note, str(run.state)),
        "value": _number(value),
        "threshold": _number((decision.get("basis") or {}).get("threshold")),
        "champion_value": _number(decision.get("champion_value")),
        "model_package_arn": package, "model_package_version": model_package_version(package) if package else None,
        "execution_arn": execution.get("execution_arn") or evaluation.get("execution_arn"),
        "execution_status": execution.get("execution_status"),
        "duration_seconds": (ended - started).total_seconds() if isinstance(started, datetime)
        and isinstance(ended, datetime) else None,
        "drifted_features": sorted({v.get("feature", "") for v in quality.get("violations") or []}),
        "console_url": console_url(xcoms.get((run.run_id, "start_execution", SageMakerPipelineExecutionLink.key))),
    }


def _day_of(run: Any) -> str | None:
    day = data_day_of_run_id(run.run_id)
    if day:
        return day
    interval = getattr(run, "data_interval_start", None)
    return interval.date().isoformat() if isinstance(interval, datetime) else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
