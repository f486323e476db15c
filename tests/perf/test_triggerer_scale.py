"""One triggerer, hundreds of executions: what waiting costs, deferred (ours) against reschedule (the provider's).

On the native stack (`make airflow`'s, on free loopback ports), N pipeline executions are held
Executing by a Callback step (no process each), N mapped wait tasks wait for them, and for two
poll intervals (30 s each) this measures: the Airflow processes' CPU (% of one core) and memory,
the API calls per execution per poll interval (counted by the endpoint), then, once every
callback is answered at once, how long each wait takes to notice (its trigger fires, or its
reschedule poke sees the end): when its trigger fired (the trigger's own log) and when the
REST API showed it out of its waiting state. Printed side by side; run alone with
`TRIGGERER_SCALE=50,200,500 make perf` (pytest -m perf tests/perf/test_triggerer_scale.py -s).
"""

from __future__ import annotations

import json
import os
import statistics
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from devtools.local_airflow.environment import REGION
from devtools.local_airflow.stack import LocalAirflowStack
from tests.stack.runs import Api, new_stack_home, remove_stack_home
from tests.support.pipelines import ROLE, definition, unique

PERF_DAGS = Path(__file__).with_name("dags")
POLL_SECONDS = 30  # the benchmark DAGs' poll interval
WINDOW_POLLS = 2
COUNTS = [int(n) for n in os.environ.get("TRIGGERER_SCALE", "50").split(",")]
RESCHEDULE_COUNT = min(COUNTS)  # the provider's sensor, side by side, at the smallest N


class BenchmarkStack(LocalAirflowStack):
    """The native stack with the benchmark DAGs and room for hundreds of mapped tasks."""

    def environment(self) -> dict[str, str]:
        env = super().environment()
        env.update({"AIRFLOW__CORE__DAGS_FOLDER": str(PERF_DAGS), "AIRFLOW__CORE__PARALLELISM": "32",
                    "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "1000",
                    "AIRFLOW__API__MAXIMUM_PAGE_LIMIT": "1000"})
        return env


class Rest(Api):
    """The REST API with room for a scheduler busy with hundreds of tasks."""

    def __init__(self, stack: LocalAirflowStack) -> None:
        super().__init__(stack, timeout=120)

    def wait_states(self, dag_id: str, run_id: str) -> dict[int, str | None]:
        found = self.call(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances?task_id=wait&limit=1000")
        return {ti["map_index"]: ti["state"] for ti in found["task_instances"] if ti["task_id"] == "wait"}


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalAirflowStack]:
    home = new_stack_home()
    with BenchmarkStack(home, seed_days=1) as running:
        yield running
    remove_stack_home(home)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its live descendants (reaped children included via cutime)."""
    tick = os.sysconf("SC_CLK_TCK")
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(value) for value in fields[11:15]) / tick
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        pending.extend(int(child) for child in children)
    return total


def rss_mb(pid: int) -> float:
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS")) / 1024
            pending.extend(int(c) for c in Path(f"/proc/{current}/task/{current}/children").read_text().split())
        except (OSError, StopIteration):
            continue
    return total


def api_calls(stack: LocalAirflowStack) -> dict[str, int]:
    with urllib.request.urlopen(f"{stack.endpoint_url}/local-console/requests", timeout=30) as response:
        return json.loads(response.read())


def held_executions(stack: LocalAirflowStack, count: int) -> tuple[list[str], Any]:
    """`count` executions of a one-Callback-step pipeline, all waiting on their token."""
    session = boto3.session.Session(region_name=REGION)
    sagemaker = session.client("sagemaker", endpoint_url=stack.endpoint_url)
    queue = session.client("sqs", endpoint_url=stack.endpoint_url).create_queue(QueueName=unique("hold"))["QueueUrl"]
    name = unique("held")
    sagemaker.create_pipeline(PipelineName=name, RoleArn=ROLE, PipelineDefinition=definition([{
        "Name": "Hold", "Type": "Callback", "Arguments": {}, "SqsQueueUrl": queue, "OutputParameters": []}]))
    with ThreadPoolExecutor(8) as pool:
        arns = list(pool.map(lambda _: sagemaker.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"],
                             range(count)))
    return arns, sagemaker


def callback_tokens(sagemaker: Any, arns: list[str]) -> list[str]:
    def token(arn: str) -> str:
        while True:
            steps = sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
            if steps and "Callback" in steps[0].get("Metadata", {}):
                return steps[0]["Metadata"]["Callback"]["CallbackToken"]
            time.sleep(0.2)

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(token, arns))


def until(check: Any, what: str, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(1)
    raise TimeoutError(f"{what} not within {timeout:.0f} s")


def measure(stack: LocalAirflowStack, rest: Rest, dag_id: str, count: int, waiting_states: tuple[str, ...]) -> dict:
    arns, sagemaker = held_executions(stack, count)
    tokens = callback_tokens(sagemaker, arns)
    rest.call(f"/api/v2/dags/{dag_id}", {"is_paused": False}, method="PATCH")
    run_id = rest.call(f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": {"arns": arns}})["dag_run_id"]
    until(lambda: (s := rest.wait_states(dag_id, run_id)) and len(s) == count
          and all(state in waiting_states for state in s.values()), f"{count} waits in {waiting_states}",
          timeout=60 + count * 6)
    pids = {name: stack.processes[name].pid for name in ("scheduler", "triggerer")}
    cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    calls_before, started = api_calls(stack), time.monotonic()
    time.sleep(WINDOW_POLLS * POLL_SECONDS)  # the measurement window itself: the benchmark's one fixed wait
    window = time.monotonic() - started
    calls_after = api_calls(stack)
    cpu = {name: (cpu_seconds(pid) - cpu_before[name]) / window * 100 for name, pid in pids.items()}
    polls = {action: calls_after.get(action, 0) - calls_before.get(action, 0)
             for action in ("SageMaker.DescribePipelineExecution", "SageMaker.ListPipelineExecutionSteps")}
    memory = {name: rss_mb(pid) for name, pid in pids.items()}

    answered: dict[int, float] = {}  # map index (the ARNs' order) -> when SageMaker took its callback

    def answer(index: int) -> None:
        sagemaker.send_pipeline_execution_step_success(CallbackToken=tokens[index])
        answered[index] = time.time()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(answer, range(count)))
    noticed: dict[int, float] = {}
    until(lambda: _noticed(rest.wait_states(dag_id, run_id), waiting_states, noticed) >= count,
          "every wait noticing its execution's end", timeout=4 * POLL_SECONDS + count * 6)
    left = sorted(noticed[index] - answered[index] for index in range(count))
    fired: list[float] = []
    if "deferred" in waiting_states:
        # The triggerer writes each trigger's log a moment after it fires, and at N = 500 a few lines
        # never reached their trigger's file (seen: 485 of 500): the figure says how many it covers.
        deadline = time.monotonic() + 60
        while len(fired := trigger_fired_delays(stack, dag_id, run_id, answered)) < count and (
                time.monotonic() < deadline):
            time.sleep(1)
        fired.sort()
    return {"count": count, "cpu": cpu, "memory": memory, "window": window,
            "calls_per_execution_per_poll": sum(polls.values()) / count / (window / POLL_SECONDS), "polls": polls,
            "left_p50": statistics.median(left), "left_max": left[-1],
            "fired_p50": statistics.median(fired) if fired else None, "fired_max": fired[-1] if fired else None,
            "fired_count": len(fired)}


def trigger_fired_delays(stack: LocalAirflowStack, dag_id: str, run_id: str, answered: dict[int, float]) -> list[float]:
    """Per deferred wait: seconds from its callback's answer to its trigger's event, read from the
    trigger's own log (`Trigger fired event`); none for waits that never deferred."""
    waits = stack.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / "task_id=wait"
    delays = []
    for index, at in answered.items():
        for log in (waits / f"map_index={index}").glob("attempt=*.log.trigger.*.log"):
            for line in log.read_text().splitlines():
                record = json.loads(line) if line.startswith("{") else {}
                if record.get("event") == "Trigger fired event":
                    fired = datetime.fromisoformat(record["timestamp"].replace("Z", "+00:00")).timestamp()
                    delays.append(fired - at)
    return delays


def _noticed(states: dict[int, str | None], waiting: tuple[str, ...], noticed: dict[int, float]) -> int:
    for index, state in states.items():
        if index not in noticed and state not in waiting:
            noticed[index] = time.time()
    return len(noticed)


@pytest.mark.perf
@pytest.mark.timeout(7200)
def test_one_triggerer_waits_on_many_executions_and_reschedule_costs_more(stack: LocalAirflowStack) -> None:
    rest = Rest(stack)
    results = [measure(stack, rest, "benchmark_deferred_waits", count, ("deferred",)) for count in COUNTS]
    reschedule = measure(stack, rest, "benchmark_reschedule_waits", RESCHEDULE_COUNT,
                         ("up_for_reschedule", "queued", "running", "scheduled"))

    print(f"\nWaiting on N executions, poll interval {POLL_SECONDS} s, measured over {WINDOW_POLLS} intervals:")
    print(f"  {'mode':<28} {'N':>5} {'triggerer CPU':>14} {'scheduler CPU':>14} {'triggerer RSS':>14} "
          f"{'calls/exec/poll':>16} {'trigger fired p50/max':>30} {'left waiting p50/max':>21}")
    for label, row in [*(("deferred (ours)", r) for r in results), ("reschedule (provider's)", reschedule)]:
        fired = (f"{row['fired_p50']:.1f} / {row['fired_max']:.1f} s ({row['fired_count']} logs)"
                 if row["fired_p50"] is not None else "-")
        print(f"  {label:<28} {row['count']:>5} {row['cpu']['triggerer']:>13.1f}% {row['cpu']['scheduler']:>13.1f}% "
              f"{row['memory']['triggerer']:>11.0f} MB {row['calls_per_execution_per_poll']:>16.2f} {fired:>30} "
              f"{row['left_p50']:.1f} / {row['left_max']:.1f} s".rstrip())
    same_n = next(r for r in results if r["count"] == RESCHEDULE_COUNT)
    ours = same_n["cpu"]["triggerer"] + same_n["cpu"]["scheduler"]
    theirs = reschedule["cpu"]["triggerer"] + reschedule["cpu"]["scheduler"]
    print(f"  Airflow CPU while waiting on {RESCHEDULE_COUNT}: reschedule / deferred = {theirs / max(ours, 0.01):.1f}x")
    assert all(row["calls_per_execution_per_poll"] > 0 for row in results)  # the waits did poll
    assert all(0 < row["fired_count"] <= row["count"] for row in results)  # the triggers' own logs were read
