"""Airflow loads plugin modules from the top of plugins/; this one points at the package's plugin."""

from airflow_sagemaker_pipelines.plugin import SageMakerPipelinesPlugin

__all__ = ["SageMakerPipelinesPlugin"]
