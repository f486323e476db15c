"""The routes of the plugin's app (model_quality_app.py builds it on its first request).

FastAPI reads the routes' annotations, so what they name is imported at the top of this module,
which only the api-server imports.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.core_api.security import GetUserDep, requires_access_dag, requires_authenticated
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from . import pages
from .model_quality_app import history, readable_training_dags, run_execution


def model_quality_routes() -> FastAPI:
    app = FastAPI(title="SageMaker Pipelines: model quality", docs_url=None, redoc_url=None, openapi_url=None)
    read_runs = [Depends(requires_access_dag("GET", DagAccessEntity.RUN))]

    def base(request: Request) -> str:
        return str(request.scope.get("root_path", "")).rstrip("/")

    def filters(first: str | None, last: str | None, outcome: str | None) -> dict[str, Any]:
        try:
            return {"first": date.fromisoformat(first) if first else None,
                    "last": date.fromisoformat(last) if last else None,
                    "outcome": outcome or None}
        except ValueError:
            raise HTTPException(422, f"from={first!r}, to={last!r}: expected days as YYYY-MM-DD") from None

    @app.get("/model-quality", response_class=HTMLResponse, dependencies=[Depends(requires_authenticated())])
    def index(request: Request, user: GetUserDep) -> str:
        return pages.index_page(readable_training_dags(user), base(request))

    @app.get("/api/dags/{dag_id}/model-quality", dependencies=read_runs)
    def model_quality(dag_id: str, first: str | None = Query(None, alias="from"),
                      last: str | None = Query(None, alias="to"), outcome: str | None = None) -> dict[str, Any]:
        return history(dag_id, **filters(first, last, outcome))

    @app.get("/dags/{dag_id}/model-quality", response_class=HTMLResponse, dependencies=read_runs)
    def model_quality_page(request: Request, dag_id: str, first: str | None = Query(None, alias="from"),
                           last: str | None = Query(None, alias="to"), outcome: str | None = None) -> str:
        found = history(dag_id, **filters(first, last, outcome))
        return pages.model_quality_page(dag_id, found["metric"], found["points"], base(request),
                                        {"from": first or "", "to": last or "", "outcome": outcome or ""},
                                        found["deployments"], found["monitoring"])

    @app.get("/api/dags/{dag_id}/runs/{run_id}/execution", dependencies=read_runs)
    def execution(dag_id: str, run_id: str) -> dict[str, Any]:
        return run_execution(dag_id, run_id)

    @app.get("/dags/{dag_id}/runs/{run_id}/execution", response_class=HTMLResponse, dependencies=read_runs)
    def execution_page(dag_id: str, run_id: str) -> str:
        found = run_execution(dag_id, run_id)
        return pages.execution_page(dag_id, run_id, found["execution"], found["metrics"], found["reason"])

    return app
