"""The FastAPI app the plugin mounts on Airflow's api-server: the model-quality pages and their JSON.

Every route requires an authenticated user; a DAG's routes require read access to its runs, as
Airflow's own API does (`requires_access_dag`), so a user who cannot read a DAG cannot read its
page. The app is built on its first request: the plugin is imported by every Airflow process, and
only the api-server serves it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

URL_PREFIX = "/sagemaker-pipelines"
RUN_XCOMS = (("start_execution", "return_value"), ("read_metrics", "return_value"))


class LazyApp:
    """An ASGI app that builds the real one when it is first called."""

    def __init__(self) -> None:
        self._app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self._app is None:
            self._app = build_app()
        await self._app(scope, receive, send)


def build_app() -> Any:
    from .routes import model_quality_routes

    return model_quality_routes()


def history(dag_id: str, first: date | None = None, last: date | None = None,
            outcome: str | None = None) -> dict[str, Any]:
    """The training DAG's runs in the range and the metric they are judged on; the deployments of their registry
    group (which version the endpoint served from when, rollbacks) and its monitoring runs (the requests' drift)."""
    from airflow.utils.session import create_session

    from .run_history import decision_metric, endpoint_events, on_days, package_group, run_points, within

    with create_session() as session:
        metric = decision_metric(dag_id, session)
        every = run_points(dag_id, metric, session) if metric else []
        points = within(every, first, last, outcome)
        group = package_group(every)
        deployments = on_days(endpoint_events(group, "deploy", "choose_model", session), first, last) if group else []
        monitoring = on_days(endpoint_events(group, "monitoring", "choose_baseline", session), first, last) if group else []
    return {"dag_id": dag_id, "metric": metric, "points": points, "model_package_group": group,
            "deployments": deployments, "monitoring": monitoring}


def run_execution(dag_id: str, run_id: str) -> dict[str, Any]:
    """The run's execution (None with the reason when it started none) and its evaluation's metrics."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from botocore.exceptions import BotoCoreError, ClientError
    from fastapi import HTTPException
    from sqlalchemy import select, tuple_

    from .execution_view import execution_view

    with create_session() as session:
        rows = session.scalars(select(XComModel).where(
            XComModel.dag_id == dag_id, XComModel.run_id == run_id,
            tuple_(XComModel.task_id, XComModel.key).in_(RUN_XCOMS))).all()
        xcoms = {row.task_id: XComModel.deserialize_value(row) for row in rows}
    arn = xcoms.get("start_execution")
    evaluation = xcoms.get("read_metrics") if isinstance(xcoms.get("read_metrics"), dict) else {}
    if not isinstance(arn, str) or ":pipeline/" not in arn:
        return {"execution": None, "metrics": {}, "reason": "This run has started no SageMaker execution (yet)."}
    try:
        view = execution_view(arn)
    except (ClientError, BotoCoreError) as error:
        raise HTTPException(502, f"SageMaker did not describe {arn}: {error}") from None
    return {"execution": view, "metrics": dict(evaluation.get("metrics") or {}), "reason": None}


def readable_training_dags(user: Any) -> list[tuple[str, str]]:
    """The training DAGs (tagged sagemaker and training) the user may read: (dag_id, description).

    Asked per team, as Airflow's own DAG list asks (`get_authorized_dag_ids`), but of these DAGs only:
    in multi-team mode a user reads only the DAGs of their teams' bundles, and an auth manager that
    decides per DAG is asked about the training DAGs, not every DAG."""
    from collections import defaultdict

    from airflow.api_fastapi.app import get_auth_manager
    from airflow.models.dag import DagModel, DagTag
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        tagged = session.execute(select(DagModel.dag_id, DagModel.description).join(
            DagTag, DagTag.dag_id == DagModel.dag_id).where(DagTag.name == "training")).all()
        sagemaker = set(session.scalars(select(DagTag.dag_id).where(DagTag.name == "sagemaker")).all())
        dags = {dag_id: description or "" for dag_id, description in tagged if dag_id in sagemaker}
        teams = DagModel.get_dag_id_to_team_name_mapping(list(dags), session=session)
    by_team: dict[str | None, set[str]] = defaultdict(set)
    for dag_id in dags:
        by_team[teams.get(dag_id)].add(dag_id)
    manager = get_auth_manager()
    allowed = {dag_id for team, dag_ids in by_team.items()
               for dag_id in manager.filter_authorized_dag_ids(dag_ids=dag_ids, user=user, method="GET", team_name=team)}
    return sorted((dag_id, dags[dag_id]) for dag_id in allowed)
