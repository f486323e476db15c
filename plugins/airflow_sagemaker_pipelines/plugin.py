"""Registers the package with Airflow: its operator extra links, the listener that writes run notes, the timetable,
the training runs' deadline reference, and its pages in the UI (a "Model quality" page in the navigation and a
"SageMaker execution" tab on every DAG run, served by the api-server)."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from . import run_notes
from .deadline_alerts import RunQueuedPlusDeadlineHours
from .links import LocalEndpointExecutionLink, SageMakerEndpointLink, SageMakerPipelineExecutionLink
from .timetables import DataDayTimetable
from .ui.model_quality_app import URL_PREFIX, LazyApp


def _ui_path() -> str:
    """Where the app's pages are, under the api-server's own path ([api] base_url may hold one)."""
    from urllib.parse import urlparse

    from airflow.configuration import conf

    return urlparse(conf.get("api", "base_url", fallback="") or "").path.rstrip("/") + URL_PREFIX


class SageMakerPipelinesPlugin(AirflowPlugin):
    name = "airflow_sagemaker_pipelines"
    operator_extra_links = [SageMakerPipelineExecutionLink(), LocalEndpointExecutionLink(), SageMakerEndpointLink()]  # noqa: RUF012 - the attribute Airflow reads
    listeners = [run_notes]  # noqa: RUF012 - the attribute Airflow reads
    timetables = [DataDayTimetable]  # noqa: RUF012 - the attribute Airflow reads
    deadline_references = [RunQueuedPlusDeadlineHours]  # noqa: RUF012 - the attribute Airflow reads
    fastapi_apps = [{"app": LazyApp(), "url_prefix": URL_PREFIX, "name": "SageMaker Pipelines"}]  # noqa: RUF012
    external_views = [  # noqa: RUF012 - the attribute Airflow reads
        {"name": "Model quality", "href": f"{_ui_path()}/model-quality", "url_route": "model-quality",
         "destination": "nav"},
        {"name": "SageMaker execution", "href": f"{_ui_path()}/dags/{{DAG_ID}}/runs/{{RUN_ID}}/execution",
         "url_route": "sagemaker-execution", "destination": "dag_run"},
    ]
