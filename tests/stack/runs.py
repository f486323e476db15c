"""The training DAG's runs on a stack, read through the REST API and the endpoint: what the stack tests wait on."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import warnings
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import boto3
from airflow_sagemaker_pipelines import execution_identity

from devtools.local_airflow.environment import BUCKET, REGION, airflow_cli
from devtools.local_airflow.processes import crash_report
from devtools.local_airflow.seed_local_stack import QUEUE_NAME
from devtools.local_airflow.stack import ADMIN_USER, LocalAirflowStack
from devtools.sample_data.partitions import seed_partitions
from tests.support.constants import DAG_ID
from tests.support.declarations import partition_uri

PIPELINE = "ml-classification-pipeline"
SEEDED_DAYS = 10  # the stack seeds the days up to yesterday
LARGE_DAY = date(2024, 6, 1)
LARGE_ROWS = 300_000  # an execution of ~20 s on an idle machine, longer on a loaded one


def seed_large_partition(endpoint_url: str) -> str:
    """A partition whose execution is still running when the wait task starts, even on a loaded machine:
    the wait looks once before deferring, and concludes at once an execution that already ended."""
    s3 = boto3.session.Session(region_name=REGION).client("s3", endpoint_url=endpoint_url)
    seed_partitions(s3, BUCKET, LARGE_DAY, LARGE_DAY, rows=LARGE_ROWS)
    return partition_uri(BUCKET, LARGE_DAY)


def new_stack_home() -> Path:
    """A home for a stack, outside pytest's temporary folders.

    Run as root, the stack's PostgreSQL server runs as `nobody` and needs to enter the folders on
    the way to its data; pytest makes /tmp/pytest-of-<user> private again at every session start
    (the other engineers' too), which would lock a running server out of its own files."""
    return Path(tempfile.mkdtemp(prefix="airflow-stack-"))


def remove_stack_home(home: Path) -> None:
    """Delete a stopped stack's home, unless KEEP_STACK_HOMES is set: its logs are the evidence of a failure."""
    if os.environ.get("KEEP_STACK_HOMES"):
        print(f"\nKEEP_STACK_HOMES: kept {home}")
        return
    shutil.rmtree(home, ignore_errors=True)


class Api:
    """The Airflow REST API as the admin user."""

    def __init__(self, stack: LocalAirflowStack, timeout: float = 60) -> None:
        self.stack = stack
        self.timeout = timeout  # an API server on a loaded machine
        self.token = self.call("/auth/token", body={"username": ADMIN_USER, "password": stack.password})["access_token"]

    def call(self, path: str, body: dict | None = None, method: str | None = None, outage_seconds: float = 180) -> Any:
        """The API's answer. While the API server is down (the stack restarts one that crashed, as compose
        does) the request is sent again, up to `outage_seconds`: any request the server never took, and an
        idempotent one whose connection dropped after it was sent."""
        headers = {"Content-Type": "application/json"}
        if getattr(self, "token", None):
            headers["Authorization"] = f"Bearer {self.token}"
        data = json.dumps(body).encode() if body is not None else None
        verb = method or ("POST" if data is not None else "GET")
        deadline = time.monotonic() + outage_seconds
        while True:
            request = urllib.request.Request(f"{self.stack.url}{path}", method=verb, headers=headers, data=data)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    answer = response.read()
                    return json.loads(answer) if answer else None  # a DELETE answers 204, no content
            except (urllib.error.URLError, ConnectionError) as error:
                if time.monotonic() > deadline or not _server_was_away(error, verb):
                    raise
            time.sleep(1)  # the API server's restart: nothing to wait on but its port

    def wait_for_dag(self, dag_id: str, timeout: float = 90) -> dict:
        """The dag-processor parses dags/ shortly after it starts."""
        return eventually(lambda: next((d for d in self.call("/api/v2/dags")["dags"] if d["dag_id"] == dag_id), None),
                          f"{dag_id} in the API", timeout=timeout, every=1)


def _server_was_away(error: Exception, verb: str) -> bool:
    """A request that failed because no server was there: refused (never taken), or dropped (taken, maybe)
    and idempotent. An HTTP error is an answer."""
    if isinstance(error, urllib.error.HTTPError):
        return False
    cause = error.reason if isinstance(error, urllib.error.URLError) else error
    if isinstance(cause, ConnectionRefusedError):
        return True
    return isinstance(cause, ConnectionError) and verb in ("GET", "HEAD", "PUT", "PATCH")  # a DELETE again: 404


def eventually(check: Callable[[], Any], what: str, timeout: float = 180, every: float = 0.5) -> Any:
    """The first truthy result of `check`, polled until `timeout` (then TimeoutError naming `what`).

    An API too busy to answer in time is asked again at the next poll."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = check()
        except (TimeoutError, urllib.error.URLError):
            found = None
        if found:
            return found
        time.sleep(every)
    raise TimeoutError(f"{what} not within {timeout:.0f} s")


def run_path(run_id: str, dag_id: str = DAG_ID) -> str:
    return f"/api/v2/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id, safe='')}"


def new_run_id(purpose: str) -> str:
    """A manual run's id, known before the run exists (to hold its calls): unique to this test session."""
    return f"manual__{purpose}-{uuid.uuid4().hex[:8]}"


def trigger(api, conf: dict | None = None, run_id: str | None = None) -> str:
    """Unpause the DAG and start a manual run (it trains on the last complete day); its run id.

    The first unpause also schedules the latest interval's run: a test that waits for "the next"
    call of some API must name its own run's (`run_digest`, `HoldingProxy.hold(containing=...)`)."""
    api.wait_for_dag(DAG_ID)
    api.call(f"/api/v2/dags/{DAG_ID}", body={"is_paused": False}, method="PATCH")
    body = {"logical_date": None, "conf": conf or {}, **({"dag_run_id": run_id} if run_id else {})}
    return api.call(f"/api/v2/dags/{DAG_ID}/dagRuns", body=body)["dag_run_id"]


def task_instance(api, run_id: str, task_id: str) -> dict:
    return api.call(f"{run_path(run_id)}/taskInstances/{task_id}")


def run_state(api, run_id: str) -> str:
    return api.call(run_path(run_id))["state"]


def finished(api, run_id: str, timeout: float = 600) -> str:
    return eventually(lambda: run_state(api, run_id) in ("success", "failed") and run_state(api, run_id),
                      f"the end of run {run_id}", timeout=timeout, every=1)


def failures(api, runs: list[dict], log_lines: int = 15, dag_id: str = DAG_ID) -> str:
    """What went wrong in the runs that did not succeed: each failed task, its try and its log's last lines
    (for an assertion's message: the stack's logs are gone once its tests end)."""
    report = []
    for run in runs:
        if run["state"] == "success":
            continue
        report.append(f"run {run['dag_run_id']}: {run['state']}")
        for ti in api.call(f"{run_path(run['dag_run_id'], dag_id)}/taskInstances")["task_instances"]:
            if ti["state"] in ("success", "skipped"):
                continue
            report.append(f"  {ti['task_id']}: {ti['state']} (try {ti['try_number']})")
            if ti["state"] == "failed" and ti["try_number"]:
                try:
                    log = api.call(f"{run_path(run['dag_run_id'], dag_id)}/taskInstances/{ti['task_id']}/logs/"
                                   f"{ti['try_number']}")
                except OSError as error:
                    report.append(f"    (its log could not be read: {error})")
                    continue
                events = [entry.get("event", str(entry)) if isinstance(entry, dict) else str(entry)
                          for entry in log.get("content", [])]
                report += [f"    | {event}" for event in events[-log_lines:]]
    return "\n".join(report)


def run_digest(run_id: str) -> str:
    """What the display name of every execution started for this run contains."""
    return execution_identity.run_digest(DAG_ID, run_id)


def executions_of_run(sagemaker, run_id: str) -> list[str]:
    """ARNs of the pipeline executions started for this run: their display names end with its digest."""
    digest = run_digest(run_id)
    found, token = [], None
    while True:
        page = sagemaker.list_pipeline_executions(PipelineName=PIPELINE, MaxResults=100,
                                                  **({"NextToken": token} if token else {}))
        found += [e["PipelineExecutionArn"] for e in page["PipelineExecutionSummaries"]
                  if digest in e.get("PipelineExecutionDisplayName", "")]
        token = page.get("NextToken")
        if not token:
            return found


def backfill(stack: LocalAirflowStack, first: str, last: str, *extra: str):
    """`airflow backfill create`, once: it must not need a retry while the scheduler writes."""
    return airflow_cli(stack.environment(), "backfill", "create", "--dag-id", DAG_ID, "--from-date", first,
                       "--to-date", last, *extra, check=False)


def backfill_runs(api) -> list[dict]:
    runs = api.call(f"/api/v2/dags/{DAG_ID}/dagRuns?limit=100&run_type=backfill")["dag_runs"]
    return [run for run in runs if run["run_type"] == "backfill"]


def overlap(intervals: list[tuple[datetime, datetime]]) -> int:
    """The most intervals open at one instant."""
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    most = current = 0
    for _, step in events:
        current += step
        most = max(most, current)
    return most


def components_that_preloaded(stack: LocalAirflowStack) -> set[str]:
    """The stack's Airflow processes whose log says they preloaded the tasks' libraries (devtools/airflow_speedups)."""
    return {name for name in stack.airflow_processes
            if "local speed-ups: preloaded" in stack.process_set.log_paths[name].read_text()}


def warn_of_crashes(stack: LocalAirflowStack) -> None:
    """A warning in the test run's summary for each Airflow component that crashed and was started again: the
    tests went on (a deployment's restart policy would have restarted it too), the crash stays in view."""
    for crash in stack.crashes:
        warnings.warn(crash, stacklevel=2)


def unclean_stop(stack: LocalAirflowStack) -> str:
    """Each process of a stopped stack that exited non-zero, with its exit code and its log's last lines."""
    report = []
    for name, code in stack.process_set.exit_codes.items():
        if code:
            tail = crash_report(stack.process_set.log_paths[name], stack.process_set.log_offsets[name]).splitlines()
            report += [f"{name} exited {code}:", *(f"  | {line}" for line in tail)]
    return "\n".join(report)


def reports_about(stack: LocalAirflowStack, subject: str, run_id: str) -> list[str]:
    """The reports with this subject about this run that reached the stack's SNS topic (its SQS queue); the
    queue is drained (every message read is deleted)."""

    sqs = boto3.session.Session(region_name=REGION).client("sqs", endpoint_url=stack.endpoint_url)
    queue = sqs.get_queue_url(QueueName=QUEUE_NAME)["QueueUrl"]
    found = []
    while batch := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
        for message in batch:
            body = json.loads(message["Body"])
            if body.get("Subject", "").startswith(subject) and run_id in body["Message"]:
                found.append(body["Message"])
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    return found
