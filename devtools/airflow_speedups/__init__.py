"""Speed-ups for `make run`, `make test` and the local stack, switched on there only.

Each trades nothing the product relies on, but reaches into Airflow's or the provider's internals,
so none ships with the product (dags/, plugins/, include/); `make perf` shows what each one buys.
`devtools.local_airflow.environment.airflow_environment` switches them on for every Airflow process
it configures: `local_settings/` on PYTHONPATH (its airflow_local_settings.py names the caller
without inspect.stack() and preloads the tasks' libraries where tasks are forked) and the shared
service-model loader as the provider's `[aws] session_factory`. `LOCAL_AIRFLOW_SPEEDUPS` picks
which (a comma-separated subset of SPEEDUPS, or `none`; all by default), so `make perf` can
measure each (tests/perf/test_local_speedups.py).
"""

from __future__ import annotations

import os
from pathlib import Path

LOCAL_SETTINGS = Path(__file__).resolve().parent / "local_settings"  # holds the airflow_local_settings.py
SESSION_FACTORY = "devtools.airflow_speedups.shared_models.SharedLoaderSessionFactory"
SWITCH = "LOCAL_AIRFLOW_SPEEDUPS"
SPEEDUPS = ("caller_name", "shared_models", "task_preload")


def enabled_speedups() -> set[str]:
    """The speed-ups LOCAL_AIRFLOW_SPEEDUPS names (all when unset); an unknown name is refused by name."""
    value = os.environ.get(SWITCH, "").strip()
    if not value:
        return set(SPEEDUPS)
    if value == "none":
        return set()
    chosen = {name.strip() for name in value.split(",") if name.strip()}
    unknown = sorted(chosen - set(SPEEDUPS))
    if unknown:
        raise ValueError(f"{SWITCH}={value!r}: unknown {', '.join(unknown)}; allowed: {', '.join(SPEEDUPS)} or none")
    return chosen


def speedups_environment(pythonpath: str = "") -> dict[str, str]:
    """What switches the speed-ups on in an Airflow process started with this environment (on top of `pythonpath`)."""
    return {"AIRFLOW__AWS__SESSION_FACTORY": SESSION_FACTORY if "shared_models" in enabled_speedups() else "",
            "PYTHONPATH": os.pathsep.join(part for part in (pythonpath, str(LOCAL_SETTINGS)) if part)}
