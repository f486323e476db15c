"""What a user did to a task that is being killed: marked it failed, or cleared it to run it again.

Airflow calls on_kill for both (and for "mark success"). Only "failed" means "stop the work":
a cleared task runs again and re-attaches to the execution it was following, so stopping that
execution would destroy what the re-run is about to wait for.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

STOPPING_STATE = "failed"


def task_state(dag_id: str, run_id: str, task_id: str) -> str | None:
    """The task instance's state as the metadata DB has it now (through the task SDK), or None if unknown."""
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

    try:
        states = RuntimeTaskInstance.get_task_states(dag_id=dag_id, task_ids=[task_id], run_ids=[run_id])
    except Exception as error:  # no supervisor to ask (dag.test in process, a unit test): unknown
        log.warning("Cannot read the state of %s/%s/%s: %s", dag_id, run_id, task_id, error)
        return None
    found: Any = states.get(run_id, {}).get(task_id)
    return str(found) if found is not None else None


def killed_to_stop(dag_id: str, run_id: str, task_id: str) -> bool:
    """True when the kill means "stop the work": the task was marked failed."""
    return task_state(dag_id, run_id, task_id) == STOPPING_STATE


def first_try_after_a_clear(ti: Any, retries: int) -> bool:
    """True when a person cleared the task and this is its first try since (not an automatic retry).

    A clear sets max_tries to the last try number plus the task's retries, so the first try of
    the new cycle is max_tries - retries + 1: the number Airflow itself computes for the first
    try of a cycle (RuntimeTaskInstance.get_first_reschedule_date).
    """
    try_number = int(getattr(ti, "try_number", 1))
    max_tries = int(getattr(ti, "max_tries", 0))
    return try_number > 1 and try_number == max_tries - retries + 1
