"""Registers the package with Airflow: its operator extra links, the listener that writes run notes, the timetable,
the training runs' deadline reference."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from . import run_notes
from .deadline_alerts import RunQueuedPlusDeadlineHours
from .links import LocalEndpointExecutionLink, SageMakerEndpointLink, SageMakerPipelineExecutionLink
from .timetables import DataDayTimetable


class SageMakerPipelinesPlugin(AirflowPlugin):
    name = "airflow_sagemaker_pipelines"
    operator_extra_links = [SageMakerPipelineExecutionLink(), LocalEndpointExecutionLink(), SageMakerEndpointLink()]  # noqa: RUF012 - the attribute Airflow reads
    listeners = [run_notes]  # noqa: RUF012 - the attribute Airflow reads
    timetables = [DataDayTimetable]  # noqa: RUF012 - the attribute Airflow reads
    deadline_references = [RunQueuedPlusDeadlineHours]  # noqa: RUF012 - the attribute Airflow reads
