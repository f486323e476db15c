"""Airflow imports this module in every one of its processes, at start (plugins/ is on its sys.path).

It preloads, in the processes that fork tasks (a LocalExecutor's scheduler, a Celery worker), the
libraries and AWS service models the tasks use, so that each task inherits them instead of loading
them again (airflow_sagemaker_pipelines/task_preload.py). A deployment with its own
airflow_local_settings.py calls `preload_for_forked_tasks()` from it instead: Airflow imports one.
"""

import sys

from airflow_sagemaker_pipelines.task_preload import preload_for_forked_tasks

# Airflow copies every public name of this module into airflow.settings: none is meant for it.
__all__: list[str] = []

if preloaded := preload_for_forked_tasks():
    print(preloaded, file=sys.stderr, flush=True)  # Airflow's logging is configured after this import
