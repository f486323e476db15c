"""Airflow loads plugin modules from the top of plugins/; this one points at the package's plugin.

Where the package is also pip-installed, Airflow loads the plugin from the package's entry point
and this module stands aside: one plugin, never two of the same name.
"""

from importlib import metadata

try:
    metadata.distribution("airflow-sagemaker-pipelines")
except metadata.PackageNotFoundError:
    from airflow_sagemaker_pipelines.plugin import SageMakerPipelinesPlugin

    __all__ = ["SageMakerPipelinesPlugin"]
else:
    __all__ = []
