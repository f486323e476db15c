"""Approval to a smoke-tested InService endpoint: the deploy DAG's wall time, where it goes, and an update under load.

After one training run approves a model, the deploy DAG (classification_deploy) is run with
dag.test() three times, side by side in one run:
1. the first deployment (CreateEndpoint) of the approved version;
2. an update (blue/green UpdateEndpoint) to a newer Approved version, no traffic;
3. an update to a newer one again while CLIENTS threads invoke the endpoint continuously.
For each: the DAG run's wall time (first task's start to last task's end, and dag.test()'s own
around it), each task's start and duration (its TaskInstance row), and the endpoint's own time to
InService (CreateEndpoint: CreationTime to LastModifiedTime; UpdateEndpoint: the pending
deployment's StartTime to LastModifiedTime), with the ratio of the two.
During the loaded update: failed invocations (goal 0; the clients do not retry, so a failure
shows as one), the calls made, and p50/p99 latency of the calls during the endpoint's Updating
window and during the whole DAG run against a window of the same load just before it.

The endpoint, the clients and the DAG's tasks share this process (dag.test() runs the tasks in it,
the session's endpoint serves from its threads; the model servers are processes of their own).
The assertion is the zero-failure goal and that every run deployed; the printed figures are the
ones to read.
"""

from __future__ import annotations

import contextlib
import statistics
import threading
import time
from datetime import datetime
from typing import Any

import pytest

from tests.e2e.test_deploy_dag import DEPLOYED, package_like, served_package
from tests.support.dag_runs import DagRunResult
from tests.support.deployed_models import DEPLOY_DAG_ID, endpoint_name, trained_and_approved

CLIENTS = 4
BEFORE_SECONDS = 10.0  # steady load before the update's DAG run: the latency baseline
WARM_SECONDS = 1.0  # the clients' first calls (connections, botocore's first request) left out
MONITOR_SECONDS = 0.1
ROW = b"3,32,9,3,3,17,2,5"  # a held-out row of the sample day (8 features)


def task_timeline(run_id: str) -> tuple[float, list[tuple[str, float, float]]]:
    """(first task start to last task end, [(task, start offset from the first start, duration)])."""
    from airflow.models import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        tis = [ti for ti in session.scalars(select(TaskInstance).where(
            TaskInstance.dag_id == DEPLOY_DAG_ID, TaskInstance.run_id == run_id)) if ti.start_date]
    tis.sort(key=lambda ti: ti.start_date)
    first, last = tis[0].start_date, max(ti.end_date for ti in tis)
    rows = [(ti.task_id, (ti.start_date - first).total_seconds(), (ti.end_date - ti.start_date).total_seconds())
            for ti in tis]
    return (last - first).total_seconds(), rows


class EndpointWatch:
    """Polls DescribeEndpoint on a thread of its own: the update's start as the endpoint records it."""

    def __init__(self, sagemaker: Any, name: str) -> None:
        self.sagemaker, self.name = sagemaker, name
        self.pending_started: datetime | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(Exception):
                description = self.sagemaker.describe_endpoint(EndpointName=self.name)
                pending = description.get("PendingDeploymentSummary")
                if pending and self.pending_started is None:
                    self.pending_started = pending["StartTime"]
            self._stop.wait(MONITOR_SECONDS)

    def __enter__(self) -> EndpointWatch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(10)


class Load:
    """CLIENTS threads invoking the endpoint back to back; each call's start (epoch s), latency (ms) and error."""

    def __init__(self, endpoint_url: str, name: str) -> None:
        self.endpoint_url, self.name = endpoint_url, name
        self.calls: list[tuple[float, float]] = []
        self.failures: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(CLIENTS)]

    def _client(self) -> Any:
        """One client per thread, with no retries: a failed invocation shows as one."""
        import boto3
        from botocore.config import Config

        return boto3.session.Session(region_name="us-east-1").client(
            "sagemaker-runtime", endpoint_url=self.endpoint_url,
            config=Config(retries={"max_attempts": 1}, max_pool_connections=2))

    def _run(self) -> None:
        client = self._client()
        while not self._stop.is_set():
            started, clock = time.time(), time.perf_counter()
            try:
                client.invoke_endpoint(EndpointName=self.name, ContentType="text/csv", Body=ROW)["Body"].read()
                self.calls.append((started, (time.perf_counter() - clock) * 1000))
            except Exception as error:  # every failure counts, whatever it is
                self.failures.append((started, f"{type(error).__name__}: {error}"))

    def __enter__(self) -> Load:
        self.started = time.time()
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)

    def latencies(self, start: float, end: float) -> list[float]:
        return [ms for at, ms in self.calls if start <= at <= end]


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def _report(lines: list[str], label: str, result: DagRunResult, test_seconds: float, endpoint_seconds: float) -> float:
    """The run's figures, added to `lines` (printed at the end: each dag.test() run reads the captured output)."""
    assert result.state == "success", (label, result.task_states)
    assert result.task_states == DEPLOYED, (label, result.task_states)
    wall, rows = task_timeline(result.run_id)
    covered, reached = 0.0, 0.0  # the time some task ran; the rest is between tasks
    for _, offset, duration in rows:
        covered += max(0.0, offset + duration - max(offset, reached))
        reached = max(reached, offset + duration)
    lines.append(f"\n{label}: DAG run {wall:.1f} s (dag.test() {test_seconds:.1f} s), endpoint to InService "
                 f"{endpoint_seconds:.1f} s, DAG run / endpoint {wall / endpoint_seconds:.2f}x, around the endpoint "
                 f"{wall - endpoint_seconds:.1f} s, between tasks {wall - covered:.1f} s")
    lines.extend(f"  {task:<24} +{offset:5.1f} s  {duration:5.2f} s" for task, offset, duration in rows)
    return wall


@pytest.mark.perf
def test_approval_to_an_in_service_endpoint_first_deployment_and_updates_under_load(
    run_training_dag, run_deploy_dag, deployment, endpoint, endpoint_client
) -> None:
    sagemaker = endpoint_client("sagemaker")
    first = trained_and_approved(run_training_dag)
    name = endpoint_name(deployment)
    measured: dict[str, tuple[float, float]] = {}
    lines: list[str] = []
    try:
        started = time.perf_counter()
        created = run_deploy_dag()
        test_seconds = time.perf_counter() - started
        described = sagemaker.describe_endpoint(EndpointName=name)
        endpoint_seconds = (described["LastModifiedTime"] - described["CreationTime"]).total_seconds()
        measured["first deployment"] = (_report(lines, "First deployment (CreateEndpoint), no traffic", created,
                                                test_seconds, endpoint_seconds), endpoint_seconds)
        assert served_package(sagemaker, name) == first

        newer = package_like(sagemaker, first)
        with EndpointWatch(sagemaker, name) as watch:
            started = time.perf_counter()
            updated = run_deploy_dag()
            test_seconds = time.perf_counter() - started
        described = sagemaker.describe_endpoint(EndpointName=name)
        assert watch.pending_started is not None, "the update's Updating status was never seen"
        endpoint_seconds = (described["LastModifiedTime"] - watch.pending_started).total_seconds()
        measured["update"] = (_report(lines, "Update (UpdateEndpoint, blue/green), no traffic", updated, test_seconds,
                                      endpoint_seconds), endpoint_seconds)
        assert served_package(sagemaker, name) == newer

        newest = package_like(sagemaker, first)
        with Load(endpoint, name) as load:
            time.sleep(WARM_SECONDS + BEFORE_SECONDS)
            with EndpointWatch(sagemaker, name) as watch:
                started, dag_started = time.perf_counter(), time.time()
                loaded = run_deploy_dag()
                test_seconds, dag_ended = time.perf_counter() - started, time.time()
        described = sagemaker.describe_endpoint(EndpointName=name)
        assert watch.pending_started is not None, "the update's Updating status was never seen"
        update_window = (watch.pending_started.timestamp(), described["LastModifiedTime"].timestamp())
        endpoint_seconds = update_window[1] - update_window[0]
        measured["update under load"] = (_report(lines, f"Update with {CLIENTS} clients invoking it", loaded,
                                                 test_seconds, endpoint_seconds), endpoint_seconds)
        assert served_package(sagemaker, name) == newest

        windows = {
            f"before (last {BEFORE_SECONDS:g} s)": (load.started + WARM_SECONDS, dag_started),
            "during the DAG run": (dag_started, dag_ended),
            "while Updating": update_window,
        }
        print("\n".join(lines))
        calls = len(load.calls) + len(load.failures)
        print(f"\nInvocations, {CLIENTS} clients, 1 row each, no retries: {calls} calls, {len(load.failures)} failed "
              "(goal 0)")
        before_p50, before_p99 = _percentiles(load.latencies(*windows[f"before (last {BEFORE_SECONDS:g} s)"]))
        for label, (start, end) in windows.items():
            samples = load.latencies(start, end)
            p50, p99 = _percentiles(samples)
            failed = sum(1 for at, _ in load.failures if start <= at <= end)
            print(f"  {label:<22} {len(samples):5d} calls in {end - start:4.1f} s "
                  f"({len(samples) / (end - start):4.0f}/s), {failed} failed, p50 {p50:5.2f} ms "
                  f"({p50 / before_p50:.2f}x), p99 {p99:6.2f} ms ({p99 / before_p99:.2f}x)")
        print("\nSummary (DAG run / endpoint to InService):")
        for label, (wall, endpoint_seconds) in measured.items():
            print(f"  {label:<18} {wall:5.1f} s / {endpoint_seconds:4.1f} s = {wall / endpoint_seconds:.2f}x")
        assert load.failures == [], load.failures[:5]
    finally:
        with contextlib.suppress(Exception):  # each instance is a model server process: not kept for the session
            sagemaker.delete_endpoint(EndpointName=name)
