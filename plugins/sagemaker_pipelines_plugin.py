"""Airflow loads plugin modules from the top of plugins/; this one points at the package's plugin."""

from sagemaker_pipelines_airflow.plugin import SageMakerPipelinesPlugin

__all__ = ["SageMakerPipelinesPlugin"]
