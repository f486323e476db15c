"""Airflow imports this module in every one of its processes, at start (plugins/ is on its sys.path).

It preloads, in the processes that fork tasks (a LocalExecutor's scheduler, a Celery worker), the
libraries and AWS service models the tasks use, so that each task inherits them instead of loading
them again (airflow_sagemaker_pipelines/task_preload.py). A deployment with its own
airflow_local_settings.py calls `preload_for_forked_tasks()` from it instead: Airflow imports one.
"""

import sys

# Airflow copies every public name of this module into airflow.settings: none is meant for it.
__all__: list[str] = []

# Printed: Airflow's logging is configured after this import. The preload only saves time: nothing
# in it, not even a broken import, may keep Airflow from starting.
try:
    from airflow_sagemaker_pipelines.task_preload import preload_for_forked_tasks

    _preloaded = preload_for_forked_tasks()
except Exception as error:
    print(f"airflow_sagemaker_pipelines: no preload ({type(error).__name__}: {error})", file=sys.stderr, flush=True)
else:
    if _preloaded:
        print(_preloaded, file=sys.stderr, flush=True)
