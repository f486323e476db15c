"""Airflow imports this module in every one of its processes, at start, when its folder is on PYTHONPATH.

The local tools put it there (devtools/airflow_speedups/__init__.py): the hooks name their caller
from the frames (caller_name.py), and the processes that fork tasks preload the tasks' libraries
and AWS service models (task_preload.py). A deployment never has it: it is not the product's.
"""

import sys

# Airflow copies every public name of this module into airflow.settings: none is meant for it.
__all__: list[str] = []

# Printed: Airflow's logging is configured after this import. A speed-up only saves time: nothing
# in it, not even a broken import, may keep Airflow from starting.
try:
    from devtools.airflow_speedups import caller_name, enabled_speedups
    from devtools.airflow_speedups.task_preload import preload_for_forked_tasks

    _enabled = enabled_speedups()
    if "caller_name" in _enabled:
        caller_name.install()
    _preloaded = preload_for_forked_tasks() if "task_preload" in _enabled else None
except Exception as error:
    print(f"local speed-ups: not installed ({type(error).__name__}: {error})", file=sys.stderr, flush=True)
else:
    if _preloaded:
        print(_preloaded, file=sys.stderr, flush=True)
