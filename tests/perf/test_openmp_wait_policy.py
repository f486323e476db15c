"""The endpoint's jobs get OMP_WAIT_POLICY=PASSIVE: what it costs and saves XGBoost's training.

The pipeline's XGBoost (200 rounds, depth 6) on a sample day's training split (1,400 rows) and on a
large day's (210,000 rows), each in a fresh process as a job runs it, with OpenMP's spinning and
with sleeping idle threads, side by side in one run: on an otherwise idle machine, and beside one
process that keeps a core busy (as Airflow, the endpoint and other jobs do during a run or a test
suite). Same threads, same model. Figures only: which is faster depends on the machine's load.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

TRAIN = """
import sys, time
import numpy as np, xgboost as xgb
rows = int(sys.argv[1])
rng = np.random.default_rng(0)
features = rng.normal(size=(rows, 10)).astype(np.float32)
labels = (features[:, 0] + rng.normal(size=rows) > 0).astype(float)
train = xgb.DMatrix(features, label=labels)
started = time.perf_counter()
xgb.train({"max_depth": 6, "eta": 0.1, "subsample": 0.8, "objective": "binary:logistic", "eval_metric": "auc"},
          train, 200, evals=[(train, "train")], verbose_eval=False)
print(time.perf_counter() - started)
"""


def training_seconds(rows: int, policy: str) -> float:
    """`policy` "default": OpenMP's own choice (spin a while, then sleep), what jobs ran with before."""
    env = {name: value for name, value in os.environ.items() if name != "OMP_WAIT_POLICY"}
    if policy != "default":
        env["OMP_WAIT_POLICY"] = policy
    return float(subprocess.run([sys.executable, "-c", TRAIN, str(rows)], env=env, capture_output=True, text=True,
                                check=True).stdout)


@contextmanager
def one_core_busy() -> Iterator[None]:
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        spinner.kill()
        spinner.wait()


@pytest.mark.perf
@pytest.mark.parametrize("rows", [1_400, 210_000])
def test_openmp_wait_policy_alone_and_beside_a_busy_core(rows: int) -> None:
    def best_of_two(policy: str) -> float:
        return min(training_seconds(rows, policy) for _ in range(2))

    policies = ("default", "ACTIVE", "PASSIVE")
    alone = {policy: best_of_two(policy) for policy in policies}
    with one_core_busy():
        shared = {policy: best_of_two(policy) for policy in policies}
    for where, seconds in (("alone", alone), ("beside a busy core", shared)):
        print(f"\nXGBoost, 200 rounds on {rows:,} rows, {os.cpu_count()} cores, {where}: "
              + ", ".join(f"{policy} {seconds[policy]:.2f} s" for policy in policies)
              + f"; default / passive {seconds['default'] / seconds['PASSIVE']:.2f}x")
    assert all(seconds > 0 for seconds in (*alone.values(), *shared.values()))
