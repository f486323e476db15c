"""What the local speed-ups (devtools/airflow_speedups) buy `make run`: its CPU with all, none, and each one off.

`make run` is one `airflow dags test` process, so the task preload (for processes that fork tasks)
changes nothing here: tests/perf/test_task_preload_cpu.py measures it on the native stack. The
variants alternate over two rounds; the best of each is kept, and the ratios are to "all".
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time

import pytest

from tests.conftest import PROJECT_ROOT

VARIANTS = {
    "all": "",
    "none": "none",
    "without caller_name": "shared_models,task_preload",
    "without shared_models": "caller_name,task_preload",
}
ROUNDS = 2


def make_run(speedups: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds of every process it started) of one `make run`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run([sys.executable, "-m", "devtools.local_airflow.run_training_dag"], cwd=PROJECT_ROOT,
                               env={**os.environ, "LOCAL_AIRFLOW_SPEEDUPS": speedups}, capture_output=True, text=True,
                               timeout=600)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert completed.returncode == 0, completed.stdout[-3000:]
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


@pytest.mark.perf
def test_what_each_local_speedup_buys_make_run() -> None:
    best: dict[str, tuple[float, float]] = {}
    for _ in range(ROUNDS):
        for name, value in VARIANTS.items():
            wall, cpu = make_run(value)
            best[name] = (min(wall, best.get(name, (wall, cpu))[0]), min(cpu, best.get(name, (wall, cpu))[1]))
    wall_all, cpu_all = best["all"]
    print(f"\n`make run` with the local speed-ups (best of {ROUNDS}; ratios to all of them):")
    for name, (wall, cpu) in best.items():
        print(f"  {name:<24} wall {wall:5.1f} s ({wall / wall_all:.2f}x)   CPU {cpu:5.1f} s ({cpu / cpu_all:.2f}x)")
    assert best["none"][1] > cpu_all  # together they save CPU, or they should go
