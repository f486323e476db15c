"""`make airflow EXECUTOR=celery` (Postgres, Redis, two Celery workers): workers answer, survive a kill, backfill 30 days.

A stack of this module's own, its `aws_default` through a proxy that can hold back one answer
(held_responses.py). The 30-day backfill is marked `backfill30`: it takes 6-15 minutes on two
cores, so `make test` leaves it out and `.ci/run` runs it (`make test-backfill-30`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import psutil
import pytest

from devtools.local_airflow.environment import BUCKET, POOLS_FILE, REGION
from devtools.local_airflow.stack import CELERY_APP, CELERY_WORKERS, LocalAirflowStack
from tests.resilience.held_responses import HoldingProxy
from tests.resilience.stacks import proxied_stack
from tests.stack.runs import (
    PIPELINE,
    Api,
    backfill,
    backfill_runs,
    components_that_preloaded,
    eventually,
    executions_of_run,
    finished,
    new_run_id,
    overlap,
    run_digest,
    task_instance,
    trigger,
)
from tests.support.constants import DAG_ID

BACKFILL_DAYS = 30
POOL = "sagemaker_pipelines"

# One worker runs this module's tests, in order, on the one stack they share (`make test` spreads
# the suite over the cores: tests/support/parallel.py).
pytestmark = pytest.mark.xdist_group("celery-stack")

@pytest.fixture(scope="module")
def celery_stack() -> Iterator[tuple[LocalAirflowStack, HoldingProxy]]:
    with proxied_stack(seed_days=BACKFILL_DAYS + 2, poll_seconds=2, executor="celery") as running:
        yield running


@pytest.fixture(scope="module")
def api(celery_stack) -> Api:
    return Api(celery_stack[0])


@pytest.fixture(scope="module")
def sagemaker(celery_stack):
    return boto3.session.Session(region_name=REGION).client("sagemaker", endpoint_url=celery_stack[0].endpoint_url)


def celery_ping(stack: LocalAirflowStack) -> str:
    """What compose's worker healthcheck runs: `celery inspect ping`, here against the stack's Redis."""
    return subprocess.run([sys.executable, "-m", "celery", "--app", CELERY_APP, "inspect", "ping", "--timeout", "10"],
                          env={**os.environ, **stack.environment()}, capture_output=True, text=True, timeout=120).stdout


@pytest.mark.timeout(300)
def test_both_celery_workers_answer_a_ping_through_the_stacks_redis(celery_stack) -> None:
    stack, _ = celery_stack
    assert stack.redis is not None and stack.redis.ping()
    replies = eventually(lambda: (out := celery_ping(stack)).count("pong") >= 2 and out, "both workers' pong",
                         timeout=120, every=2)
    assert all(f"{worker}@" in replies for worker in CELERY_WORKERS), replies


def test_the_celery_workers_preload_for_the_tasks_they_fork_and_the_scheduler_does_not(celery_stack) -> None:
    stack, _ = celery_stack
    eventually(lambda: components_that_preloaded(stack) >= set(CELERY_WORKERS), "both workers' preload", timeout=120)
    assert components_that_preloaded(stack) == set(CELERY_WORKERS)


@pytest.mark.timeout(900)
def test_a_worker_killed_while_it_starts_the_execution_leaves_the_retry_the_same_execution(
        celery_stack, api, sagemaker) -> None:
    stack, proxy = celery_stack
    run_id = new_run_id("worker-killed")
    proxy.hold("SageMaker.StartPipelineExecution", containing=run_digest(run_id))  # not the scheduled run's
    try:
        trigger(api, run_id=run_id)
        assert proxy.held.wait(300), "start_execution never called StartPipelineExecution"
        started = task_instance(api, run_id, "start_execution")
        assert started["state"] == "running"
        assert len(executions_of_run(sagemaker, run_id)) == 1  # AWS accepted it; the task has no answer yet
        worker = next(name for name in CELERY_WORKERS
                      if any(started["id"] in _cmdline(process) for process in _tree(stack, name)))
        stack.kill(worker)  # the worker, its pool and the task runner, as when its machine dies
        killed = time.monotonic()
        stack.start_component(worker)
    finally:
        proxy.release()

    def recovered() -> bool:  # no heartbeat for 45 s: failed, to be retried
        now = task_instance(api, run_id, "start_execution")
        return now["try_number"] > started["try_number"] or now["state"] not in ("running", "queued")

    eventually(recovered, "the dead worker's start_execution failed", timeout=120, every=1)
    reset = time.monotonic() - killed
    assert finished(api, run_id, timeout=600) == "success"
    print(f"\n{worker} killed during start_execution: task failed {reset:.0f} s after the kill (retry delay 1 min), "
          f"run finished {time.monotonic() - killed:.0f} s after it")
    assert task_instance(api, run_id, "start_execution")["try_number"] > started["try_number"]
    assert len(executions_of_run(sagemaker, run_id)) == 1  # the retry found the execution by its token


def _tree(stack: LocalAirflowStack, name: str) -> list[psutil.Process]:
    return stack.process_set.processes[name].tree()


def _cmdline(process: psutil.Process) -> str:
    """The task runner's process title names its task instance (`airflow worker -- <ti id>`)."""
    try:
        return " ".join(process.cmdline())
    except psutil.Error:  # gone, or a zombie the pool has not reaped yet
        return ""


def execution_intervals(sagemaker, wanted: set[str]) -> dict[str, list[tuple[datetime, datetime]]]:
    """Per partition in `wanted`: each execution's (created, last step ended)."""
    found: dict[str, list[tuple[datetime, datetime]]] = {}
    token = None
    while True:
        page = sagemaker.list_pipeline_executions(PipelineName=PIPELINE, MaxResults=100,
                                                  **({"NextToken": token} if token else {}))
        for summary in page["PipelineExecutionSummaries"]:
            arn = summary["PipelineExecutionArn"]
            parameters = sagemaker.list_pipeline_parameters_for_execution(PipelineExecutionArn=arn)["PipelineParameters"]
            url = next(p["Value"] for p in parameters if p["Name"] == "InputDataUrl")
            if url in wanted:
                steps = sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
                ended = max((s["EndTime"] for s in steps if s.get("EndTime")), default=summary["StartTime"])
                found.setdefault(url, []).append((summary["StartTime"], ended))
        token = page.get("NextToken")
        if not token:
            return found


@pytest.mark.backfill30
@pytest.mark.timeout(3600)
def test_a_30_day_backfill_runs_each_day_once_within_the_pool_and_a_second_one_adds_nothing(
        celery_stack, api, sagemaker) -> None:
    stack, _ = celery_stack
    slots = json.loads(POOLS_FILE.read_text())[POOL]["slots"]
    api.wait_for_dag(DAG_ID)
    api.call(f"/api/v2/dags/{DAG_ID}", body={"is_paused": False}, method="PATCH")
    today = datetime.now(UTC).date()
    first, last = today - timedelta(days=BACKFILL_DAYS + 1), today - timedelta(days=2)
    wanted = {f"s3://{BUCKET}/raw-data/ds={first + timedelta(days=i)}/" for i in range(BACKFILL_DAYS)}

    began = time.monotonic()
    # The pool alone does not bound executions: start_execution and wait_for_execution take a slot
    # each, one after the other, and between them the execution runs holding none. With a
    # backfill's default of 10 active runs, 10 executions ran at once while the pool never showed
    # more than 3 slots taken. The backfill's --max-active-runs (the README's command) bounds them.
    created = backfill(stack, first.isoformat(), last.isoformat(), "--max-active-runs", str(slots))
    assert created.returncode == 0, created.stdout + created.stderr
    occupied: list[int] = []

    def all_finished() -> bool:
        pool = api.call(f"/api/v2/pools/{POOL}")
        occupied.append(pool["occupied_slots"])  # running, queued and deferred tasks holding a slot
        runs = backfill_runs(api)
        return len(runs) == BACKFILL_DAYS and all(run["state"] in ("success", "failed") for run in runs)

    eventually(all_finished, "the 30 backfill runs' end", timeout=3300, every=1)
    wall = time.monotonic() - began
    runs = backfill_runs(api)
    intervals = execution_intervals(sagemaker, wanted)
    run_spans = [(datetime.fromisoformat(r["start_date"]), datetime.fromisoformat(r["end_date"])) for r in runs]
    print(f"\n30-day backfill on Postgres + Celery: wall time {wall:.0f} s; peak pool slots occupied "
          f"{max(occupied)}/{slots}; peak concurrent executions "
          f"{overlap([span for spans in intervals.values() for span in spans])}; peak concurrent runs "
          f"{overlap(run_spans)}")

    assert {run["state"] for run in runs} == {"success"}, [(r["dag_run_id"], r["state"]) for r in runs]
    assert sorted(run["data_interval_start"][:10] for run in runs) == [
        (first + timedelta(days=i)).isoformat() for i in range(BACKFILL_DAYS)]
    assert {url: len(spans) for url, spans in intervals.items()} == dict.fromkeys(wanted, 1)  # 30, one per day
    assert 0 < max(occupied) <= slots
    assert overlap([span for spans in intervals.values() for span in spans]) <= slots

    again = backfill(stack, first.isoformat(), last.isoformat(), "--reprocess-behavior", "none")
    # `backfill create` creates its runs before it returns: had it created any, they would be here now.
    assert len(backfill_runs(api)) == BACKFILL_DAYS, again.stdout + again.stderr
    assert {url: len(spans) for url, spans in execution_intervals(sagemaker, wanted).items()} == dict.fromkeys(wanted, 1)
