"""Where a run failed and why, for the task that reports the run (all_done) after the failure.

Each task of the deploy and scoring DAGs records its error under FAILURE_KEY when it fails for good
(`record_failure`, their on_failure_callback), unless it pushed a clearer reason itself; the report
task reads which tasks failed and their reasons.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

FAILURE_KEY = "failure"


def record_failure(context: Any) -> None:
    """A task's on_failure_callback: its error as its `failure` XCom, unless it pushed a reason of its own."""
    ti = context["ti"]
    if not ti.xcom_pull(task_ids=ti.task_id, key=FAILURE_KEY):
        ti.xcom_push(key=FAILURE_KEY, value=str(context.get("exception") or "failed (see its log)"))


def failed_tasks(context: Any, task_ids: Sequence[str]) -> list[str]:
    """Which of `task_ids` failed in this run, in their order."""
    ti = context["ti"]
    states = ti.get_task_states(dag_id=ti.dag_id, task_ids=list(task_ids), run_ids=[ti.run_id]).get(ti.run_id, {})
    return [task_id for task_id in task_ids if states.get(task_id) == "failed"]


def failure_reason(context: Any, task_id: str) -> str:
    return context["ti"].xcom_pull(task_ids=task_id, key=FAILURE_KEY) or f"{task_id} failed (its log says why)"
