"""Speed-ups for `make run`, `make test` and the local stack, switched on there only.

Each trades nothing the product relies on, but reaches into Airflow's or the provider's internals,
so none ships with the product (dags/, plugins/, include/); `make perf` shows what each one buys.
`devtools.local_airflow.environment.airflow_environment` switches them on for every Airflow process
it configures: `local_settings/` on PYTHONPATH (its airflow_local_settings.py names the caller
without inspect.stack() and preloads the tasks' libraries where tasks are forked) and the shared
service-model loader as the provider's `[aws] session_factory`.
"""

from __future__ import annotations

import os
from pathlib import Path

LOCAL_SETTINGS = Path(__file__).resolve().parent / "local_settings"  # holds the airflow_local_settings.py
SESSION_FACTORY = "devtools.airflow_speedups.shared_models.SharedLoaderSessionFactory"


def speedups_environment(pythonpath: str = "") -> dict[str, str]:
    """What switches the speed-ups on in an Airflow process started with this environment (on top of `pythonpath`)."""
    return {"AIRFLOW__AWS__SESSION_FACTORY": SESSION_FACTORY,
            "PYTHONPATH": os.pathsep.join(part for part in (pythonpath, str(LOCAL_SETTINGS)) if part)}
