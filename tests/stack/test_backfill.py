"""`airflow backfill create` over 7 days on the stack: 7 runs, 7 executions, each on its own day."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from devtools.local_airflow.environment import BUCKET
from tests.stack.runs import PIPELINE, backfill, backfill_runs, eventually, failures, overlap
from tests.support.constants import DAG_ID

DAYS = 7

POOL_TASKS = ("start_execution", "wait_for_execution")
HOLDING_A_SLOT = ("queued", "running", "deferred")  # the pool counts deferred tasks too


def wait_until_finished(api, count: int, pool_samples: list[int], timeout: float = 900) -> list[dict]:
    """Poll every second; each sample records how many SageMaker tasks hold a pool slot."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        instances = api.call(f"/api/v2/dags/{DAG_ID}/dagRuns/~/taskInstances?limit=200")["task_instances"]
        pool_samples.append(sum(ti["task_id"] in POOL_TASKS and ti["state"] in HOLDING_A_SLOT for ti in instances))
        runs = backfill_runs(api)
        if len(runs) >= count and all(run["state"] in ("success", "failed") for run in runs):
            return runs
        time.sleep(1)
    raise TimeoutError(f"backfill not done after {timeout:.0f} s: {[(r['dag_run_id'], r['state']) for r in backfill_runs(api)]}")


@pytest.mark.timeout(1200)
def test_backfill_of_7_days_starts_one_execution_per_day_and_a_rerun_starts_none(stack, api, stack_sagemaker) -> None:
    api.wait_for_dag(DAG_ID)
    # The DAG starts paused (as in docker-compose.yaml), and a paused DAG runs none of its backfill runs.
    api.call(f"/api/v2/dags/{DAG_ID}", body={"is_paused": False}, method="PATCH")
    today = datetime.now(UTC).date()
    first, last = today - timedelta(days=DAYS + 1), today - timedelta(days=2)

    # A backfill's own max_active_runs defaults to 10, not the DAG's: say it, as the README does.
    started = backfill(stack, first.isoformat(), last.isoformat(), "--max-active-runs", "3")
    assert started.returncode == 0, started.stdout + started.stderr
    pool_samples: list[int] = []
    runs = wait_until_finished(api, DAYS, pool_samples)

    assert len(runs) == DAYS
    assert {run["state"] for run in runs} == {"success"}, failures(api, runs)
    days = [(first + timedelta(days=i)).isoformat() for i in range(DAYS)]
    assert sorted(run["data_interval_start"][:10] for run in runs) == days
    # What a person sees of each run: its outcome and data day first in its note. (Airflow 3.3.2 names a
    # backfill's runs itself, by their run-after day; the timetable names the scheduled and manual ones.)
    for run in runs:
        day = run["data_interval_start"][:10]
        assert run["note"].startswith(tuple(f"**{outcome}** · data {day} · AUC " for outcome in (
            "APPROVED", "NOT PROMOTED", "REJECTED", "GATE FAILED"))), run["note"]
    scheduled = [r for r in api.call(f"/api/v2/dags/{DAG_ID}/dagRuns?run_type=scheduled")["dag_runs"]]
    assert scheduled and all(r["dag_run_id"].startswith(f"scheduled__data-{r['data_interval_start'][:10]}__")
                             for r in scheduled)
    starts_and_ends = [(datetime.fromisoformat(r["start_date"]), datetime.fromisoformat(r["end_date"])) for r in runs]
    assert overlap(starts_and_ends) <= 3  # --max-active-runs

    wanted = [f"s3://{BUCKET}/raw-data/ds={first + timedelta(days=i)}/" for i in range(DAYS)]
    # Unpausing also scheduled the latest day (yesterday), outside the backfill's range.
    assert sorted(u for u in execution_inputs(stack_sagemaker) if u in wanted) == wanted
    assert 0 < max(pool_samples) <= 3  # the sagemaker_pipelines pool: 3 slots, deferred tasks counted

    ended = {run["dag_run_id"]: run["end_date"] for run in runs}
    # One backfill at a time per DAG: the rerun waits for the scheduler to mark the first one completed.
    eventually(lambda: all(b["completed_at"] for b in api.call(f"/api/v2/backfills?dag_id={DAG_ID}")["backfills"]),
               "the first backfill completed", timeout=120)
    again = backfill(stack, first.isoformat(), last.isoformat(), "--reprocess-behavior", "none")
    assert again.returncode == 0, again.stdout + again.stderr
    # `backfill create` makes, or clears for a rerun, its runs before it returns: a wrong one shows now.
    rerun = {run["dag_run_id"]: (run["state"], run["end_date"]) for run in backfill_runs(api)}
    assert rerun == {run_id: ("success", end) for run_id, end in ended.items()}, again.stdout + again.stderr
    assert sorted(u for u in execution_inputs(stack_sagemaker) if u in wanted) == wanted


def execution_inputs(sagemaker) -> list[str]:
    """The InputDataUrl of every execution of the pipeline."""
    executions = sagemaker.list_pipeline_executions(PipelineName=PIPELINE, MaxResults=100)["PipelineExecutionSummaries"]
    return [next(p["Value"] for p in sagemaker.list_pipeline_parameters_for_execution(
        PipelineExecutionArn=e["PipelineExecutionArn"])["PipelineParameters"] if p["Name"] == "InputDataUrl")
        for e in executions]
