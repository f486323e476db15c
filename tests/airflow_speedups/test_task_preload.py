"""The processes that fork tasks load the tasks' libraries and AWS service models once, for every task they fork."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.airflow_speedups import task_preload
from devtools.airflow_speedups.task_preload import forks_tasks
from devtools.local_airflow.environment import PROJECT_ROOT, airflow_environment, aws_connection_uri_json

# Run by a fresh interpreter as Airflow command `argv`: Airflow's start imports airflow_local_settings
# (which preloads, or not); then a forked child does what a task does first: parse the DAG file and
# make a client of this package's hook. It prints the service models and libraries the child loaded.
A_TASK_AFTER_THE_START_OF = """
import importlib.util, json, os, sys
sys.argv = json.loads(sys.argv[1])
import airflow  # Airflow's start
import botocore.loaders

read, write = os.pipe()
if os.fork() == 0:
    parsed = []
    parse = botocore.loaders.JSONFileLoader.load_file
    botocore.loaders.JSONFileLoader.load_file = lambda loader, path: parsed.append(path) or parse(loader, path)
    before = set(sys.modules)
    spec = importlib.util.spec_from_file_location("dag_file", "dags/sagemaker_pipelines.py")
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
    from airflow_sagemaker_pipelines.hooks.pipeline_execution import PipelineExecutionHook
    PipelineExecutionHook(aws_conn_id="aws_default").conn
    ours = ("airflow_sagemaker_pipelines", "include", "dag_file")  # imported by each task anew
    imported = sorted(name for name in set(sys.modules) - before if not name.startswith(ours))
    os.write(write, json.dumps({"parsed": parsed, "imported": imported}).encode())
    os._exit(0)
os.close(write)
print(os.read(read, 1 << 20).decode())
os.wait()
"""


def a_task_forked_by(argv: list[str], executor: str, home: Path) -> dict[str, list[str]]:
    env = {**os.environ, **airflow_environment(home), "AIRFLOW__CORE__EXECUTOR": executor,
           "AIRFLOW_CONN_AWS_DEFAULT": aws_connection_uri_json("http://127.0.0.1:9")}  # never called
    completed = subprocess.run([sys.executable, "-c", A_TASK_AFTER_THE_START_OF, json.dumps(argv)], env=env,
                               cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(("argv", "executor", "forks"), [
    (["airflow", "scheduler"], "LocalExecutor", True),
    (["airflow", "scheduler", "--skip-serve-logs"], "airflow.executors.local_executor.LocalExecutor", True),
    (["airflow", "scheduler"], "CeleryExecutor,LocalExecutor", True),
    (["airflow", "scheduler"], "CeleryExecutor", False),
    (["airflow", "celery", "worker"], "CeleryExecutor", True),
    (["airflow", "celery", "flower"], "CeleryExecutor", False),
    (["airflow", "triggerer"], "LocalExecutor", False),
    (["airflow", "api-server"], "LocalExecutor", False),
    (["airflow", "dags", "test"], "LocalExecutor", False),  # runs its tasks in its own process
])
def test_only_a_local_executors_scheduler_and_a_celery_worker_fork_tasks(argv, executor, forks) -> None:
    assert forks_tasks(argv, executor) is forks


def test_a_task_forked_by_the_scheduler_parses_no_service_model_and_imports_only_the_packages_modules(tmp_path: Path) -> None:
    task = a_task_forked_by(["airflow", "scheduler"], "LocalExecutor", tmp_path)

    assert task == {"parsed": [], "imported": []}


def test_a_task_of_a_process_that_forks_none_loads_them_itself(tmp_path: Path) -> None:
    task = a_task_forked_by(["airflow", "api-server"], "LocalExecutor", tmp_path)

    assert any(path.endswith("sagemaker/2017-07-24/service-2") for path in task["parsed"]), task["parsed"]
    assert "airflow.providers.amazon.aws.hooks.sagemaker" in task["imported"]


def test_what_cannot_be_preloaded_is_named_and_left_to_the_tasks_and_airflow_starts(monkeypatch) -> None:
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "LocalExecutor")
    monkeypatch.setattr(task_preload, "_preloaded", None)
    monkeypatch.setattr(task_preload, "TASK_MODULES", ("json", "airflow.providers.amazon.aws.hooks.moved_away"))
    monkeypatch.setattr(task_preload, "TASK_SERVICES", ("sagemaker", "no-such-service"))

    preloaded = task_preload.preload_for_forked_tasks(["airflow", "scheduler"])

    assert preloaded is not None and (preloaded.modules, preloaded.services) == (1, 0)
    assert "not preloaded: airflow.providers.amazon.aws.hooks.moved_away (ModuleNotFoundError" in str(preloaded)
    assert "service models (UnknownServiceError" in str(preloaded)
    assert task_preload.preload_for_forked_tasks(["airflow", "scheduler"]) is preloaded  # once per process


def airflow_started_as_a_scheduler(home: Path, **environment: str) -> str:
    """What a LocalExecutor scheduler's start (Airflow's settings: airflow_local_settings) printed."""
    started = "import sys\nsys.argv = ['airflow', 'scheduler']\nimport airflow.settings\nprint('started')"
    env = {**os.environ, **airflow_environment(home), "AIRFLOW__CORE__EXECUTOR": "LocalExecutor", **environment}
    completed = subprocess.run([sys.executable, "-c", started], env=env, cwd=PROJECT_ROOT, capture_output=True,
                               text=True, timeout=300)
    assert completed.returncode == 0 and completed.stdout.strip().endswith("started"), completed.stderr[-3000:]
    return completed.stderr


@pytest.mark.parametrize(("speedups", "preloads"), [("", True), ("caller_name,shared_models", False), ("none", False)])
def test_the_speedups_switch_chooses_whether_the_scheduler_preloads(tmp_path: Path, speedups: str,
                                                                    preloads: bool) -> None:
    printed = airflow_started_as_a_scheduler(tmp_path, LOCAL_AIRFLOW_SPEEDUPS=speedups)
    assert ("local speed-ups: preloaded" in printed) is preloads


def test_an_unknown_speedup_is_refused_by_name_and_airflow_starts(tmp_path: Path) -> None:
    printed = airflow_started_as_a_scheduler(tmp_path, LOCAL_AIRFLOW_SPEEDUPS="caller_name,turbo")
    assert "local speed-ups: not installed (ValueError: LOCAL_AIRFLOW_SPEEDUPS='caller_name,turbo': unknown turbo" \
        in printed


def test_airflow_starts_when_the_preload_cannot_even_be_imported(tmp_path: Path) -> None:
    broken = ("import sys\nsys.argv = ['airflow', 'scheduler']\n"
              "sys.modules['devtools.airflow_speedups.task_preload'] = None  # its import fails\n"
              "import airflow.settings\nprint('started')")
    env = {**os.environ, **airflow_environment(tmp_path), "AIRFLOW__CORE__EXECUTOR": "LocalExecutor"}
    completed = subprocess.run([sys.executable, "-c", broken], env=env, cwd=PROJECT_ROOT, capture_output=True,
                               text=True, timeout=300)

    assert completed.returncode == 0 and completed.stdout.strip().endswith("started"), completed.stderr[-3000:]
    assert "local speed-ups: not installed (ModuleNotFoundError" in completed.stderr
