"""The CPU of Airflow's task processes on the native stack, with the tasks' libraries preloaded and without.

Two stacks side by side in one run, the second with `LOCAL_AIRFLOW_SPEEDUPS=caller_name,shared_models`, each running
the same DAG runs one after the other (plus the run the first unpause schedules). Measured from
/proc, from before the first trigger to the end of the last run: the CPU of every task process the
scheduler's LocalExecutor workers forked and reaped, and the workers' own (the task supervisors:
heartbeats, logs), which the preload does not change.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from devtools.local_airflow.stack import LocalAirflowStack
from tests.stack.runs import Api, eventually, finished, new_stack_home, remove_stack_home, trigger
from tests.support.constants import DAG_ID

MANUAL_RUNS = 3
GOAL = 1.1  # at least this much less task CPU preloaded (measured 1.19x)


def tasks_and_supervisors_cpu_seconds(scheduler_pid: int) -> tuple[float, float]:
    """(the CPU of the task processes the scheduler's LocalExecutor workers reaped, the workers' own)."""
    tasks = supervisors = 0
    for worker in Path(f"/proc/{scheduler_pid}/task/{scheduler_pid}/children").read_text().split():
        utime, stime, cutime, cstime = (int(v) for v in Path(f"/proc/{worker}/stat").read_text().rsplit(")", 1)[1].split()[11:15])
        tasks, supervisors = tasks + cutime + cstime, supervisors + utime + stime
    ticks = os.sysconf("SC_CLK_TCK")
    return tasks / ticks, supervisors / ticks


def cpu_per_run(preload: str, monkeypatch: pytest.MonkeyPatch) -> tuple[float, float, float]:
    """(task processes' CPU seconds per DAG run, the supervisors', the runs' wall time) on a fresh stack."""
    # The stack's processes inherit it: every local speed-up, or all but the preload.
    monkeypatch.setenv("LOCAL_AIRFLOW_SPEEDUPS", "" if preload == "on" else "caller_name,shared_models")
    home = new_stack_home()
    try:
        with LocalAirflowStack(home, seed_days=3, poll_seconds=1) as stack:
            api = Api(stack)
            api.wait_for_dag(DAG_ID)
            scheduler = stack.processes["scheduler"].pid
            before, started = tasks_and_supervisors_cpu_seconds(scheduler), time.monotonic()
            for _ in range(MANUAL_RUNS):
                assert finished(api, trigger(api)) == "success"

            def all_ended() -> list[dict] | None:
                runs = api.call(f"/api/v2/dags/{DAG_ID}/dagRuns")["dag_runs"]
                return runs if all(run["state"] in ("success", "failed") for run in runs) else None

            runs = eventually(all_ended, "the scheduled run's end", timeout=600, every=1)
            assert {run["state"] for run in runs} == {"success"}
            after = tasks_and_supervisors_cpu_seconds(scheduler)
            return ((after[0] - before[0]) / len(runs), (after[1] - before[1]) / len(runs),
                    time.monotonic() - started)
    finally:
        remove_stack_home(home)


@pytest.mark.perf
@pytest.mark.timeout(1800)
def test_tasks_forked_with_their_libraries_preloaded_use_less_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    measured = {label: cpu_per_run(preload, monkeypatch) for label, preload in
                (("preloaded", "on"), ("not preloaded", "off"))}

    print("\nCPU per DAG run of the training DAG (native stack, LocalExecutor): task processes / supervisors")
    for label, (tasks, supervisors, wall) in measured.items():
        print(f"  {label:14s} {tasks:5.2f} s / {supervisors:5.2f} s   ({MANUAL_RUNS} runs + the scheduled one in {wall:.0f} s)")
    ratio = measured["not preloaded"][0] / measured["preloaded"][0]
    print(f"  ratio          {ratio:.2f}x less task CPU preloaded (goal >= {GOAL}x)")
    assert ratio >= GOAL
