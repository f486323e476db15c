"""Registers the package with Airflow: its operator extra link, so the UI can show it."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from .links import SageMakerPipelineExecutionLink


class SageMakerPipelinesPlugin(AirflowPlugin):
    name = "airflow_sagemaker_pipelines"
    operator_extra_links = [SageMakerPipelineExecutionLink()]  # noqa: RUF012 - the attribute Airflow reads
