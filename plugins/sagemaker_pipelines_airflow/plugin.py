"""Registers the package with Airflow: its operator extra link, so the UI can show it."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from .links import SageMakerPipelineExecutionLink


class SageMakerPipelinesPlugin(AirflowPlugin):
    name = "sagemaker_pipelines_airflow"
    operator_extra_links = [SageMakerPipelineExecutionLink()]  # noqa: RUF012 - the attribute Airflow reads
