"""A job's status lifecycle, the same for every kind and whoever created the job.

InProgress from creation; Completed, Failed (with FailureReason) or Stopped at the end, with
the kind's start and end times. Training jobs also walk SecondaryStatus (Starting,
Downloading, Training, Uploading, Completed | Failed | Stopping, Stopped | MaxRuntimeExceeded)
and keep every
transition in SecondaryStatusTransitions, as DescribeTrainingJob shows them. Stop*Job (or
StopPipelineExecution for a step's job) makes the job Stopping and ends its processes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..aws import EndpointClients
from ..errors import JobTimedOut, StepFailure, StepStopped
from ..job_process import JobProcess
from ..job_store import JobStore, now
from .kinds import JOB_KINDS, JobKind

FAILURE_REASON_LIMIT = 1024  # the API's maximum length of a FailureReason
TERMINAL_JOB_STATUSES = ("Completed", "Failed", "Stopped")
_SECONDARY_MESSAGES = {
    "Starting": "Preparing the instances for training",
    "Downloading": "Downloading input data",
    "Training": "Training image download completed. Training in progress.",
    "Uploading": "Uploading generated training model",
    "Completed": "Training job completed",
    "Stopping": "Stopping the training job",
    "Stopped": "Training job stopped",
}


@dataclass
class JobContext:
    """Where jobs run: the endpoint's clients, the work folder, the account and region."""

    clients: EndpointClients
    work_dir: Path
    account_id: str
    region: str
    jobs: JobStore

    def arn(self, resource: str, name: str) -> str:
        return f"arn:aws:sagemaker:{self.region}:{self.account_id}:{resource}/{name.lower()}"


class JobRun:
    """One job: its record in the JobStore, its processes, its stop signal."""

    def __init__(self, kind: JobKind, name: str, request: dict[str, Any], context: JobContext,
                 stop_requested: threading.Event | None = None) -> None:
        self.kind = kind
        self.name = name
        self.context = context
        self.arn = context.arn(kind.arn_resource, name)
        self.stop_requested = stop_requested or threading.Event()
        self._processes: list[JobProcess] = []
        self._lock = threading.Lock()
        created = now()
        self.record: dict[str, Any] = {
            kind.name_field: name,
            kind.arn_field: self.arn,
            **request,
            kind.status_field: "InProgress",
            "CreationTime": created,
            "LastModifiedTime": created,
        }
        if kind.has_secondary_status:
            self.record["SecondaryStatus"] = "Starting"
            self.record["SecondaryStatusTransitions"] = [self._transition("Starting", created)]

    @property
    def folder(self) -> Path:
        return self.context.work_dir / "jobs" / self.name

    def create(self) -> bool:
        """Store the job; False when a job of this kind and name exists already."""
        return self.context.jobs.create(self.kind.key, self.name, self.record, self)

    def describe(self) -> dict[str, Any]:
        return self.context.jobs.get(self.kind.key, self.name) or dict(self.record)

    def update(self, **changes: Any) -> None:
        self.context.jobs.update(self.kind.key, self.name, **changes)

    def secondary(self, status: str, message: str | None = None) -> None:
        """Move a training job to a new SecondaryStatus, closing the previous transition."""
        if not self.kind.has_secondary_status:
            return
        record = self.describe()
        at = now()
        transitions = record.get("SecondaryStatusTransitions", [])
        if transitions and transitions[-1]["Status"] == status:
            return
        if transitions:
            transitions[-1]["EndTime"] = at
        transitions.append(self._transition(status, at, message))
        self.update(SecondaryStatus=status, SecondaryStatusTransitions=transitions)

    def execute(self, work: Callable[[JobRun], dict[str, Any]]) -> dict[str, Any]:
        """Run the job's work; record Completed with what it returns, or Failed/Stopped; return the record."""
        self.update(**{self.kind.start_field: now()})
        try:
            self.check_stopped()
            result = work(self)
            self.check_stopped()
        except StepStopped:
            self._end("Stopped")
            raise
        except JobTimedOut as error:
            # A training job past its limit is Stopped (SecondaryStatus MaxRuntimeExceeded), as
            # DescribeTrainingJob documents; other kinds fail. A pipeline step fails either way.
            if self.kind.has_secondary_status:
                self._end("Stopped", secondary="MaxRuntimeExceeded")
            else:
                self._end("Failed", reason=failure_reason(str(error)))
            raise
        except StepFailure as error:
            if self.stop_requested.is_set():
                self._end("Stopped")
                raise StepStopped(self.name) from None
            self._end("Failed", reason=failure_reason(str(error)))
            raise
        except Exception as error:
            self._end("Failed", reason=failure_reason(f"InternalError: {type(error).__name__}: {error}"))
            raise StepFailure(f"InternalError: {type(error).__name__}: {error}") from error
        self._end("Completed", **result)
        return self.describe()

    def stop(self) -> None:
        """Stop*Job: Stopping at once, Stopped when the processes have ended."""
        with self._lock:
            self.stop_requested.set()
            processes = list(self._processes)
        record = self.describe()
        if record.get(self.kind.status_field) == "InProgress":
            self.update(**{self.kind.status_field: "Stopping"})
            self.secondary("Stopping")
        for process in processes:
            process.stop()

    def check_stopped(self) -> None:
        if self.stop_requested.is_set():
            raise StepStopped(f"Job {self.name} was stopped")

    def track(self, process: JobProcess) -> None:
        with self._lock:
            self._processes.append(process)
        if self.stop_requested.is_set():
            process.stop()

    def _end(self, status: str, reason: str | None = None, secondary: str | None = None, **changes: Any) -> None:
        ended = now()
        fields: dict[str, Any] = {self.kind.status_field: status, self.kind.end_field: ended, **changes}
        if reason:
            fields["FailureReason"] = reason
        if self.kind.has_secondary_status:
            self.secondary(secondary or status, f"Training job failed. Reason: {reason}" if status == "Failed" else None)
            started = self.describe().get(self.kind.start_field) or ended
            seconds = max(1, int((ended - started).total_seconds()))
            fields.update(TrainingTimeInSeconds=seconds, BillableTimeInSeconds=seconds)
            record = self.describe()
            transitions = record["SecondaryStatusTransitions"]
            transitions[-1]["EndTime"] = ended
            fields["SecondaryStatusTransitions"] = transitions
        self.context.jobs.finish(self.kind.key, self.name, **fields)

    @staticmethod
    def _transition(status: str, at: Any, message: str | None = None) -> dict[str, Any]:
        return {"Status": status, "StartTime": at, "StatusMessage": message or _SECONDARY_MESSAGES.get(status, status)}


def fail_interrupted_jobs(store: JobStore, reason: str) -> list[str]:
    """Jobs a restored store shows InProgress or Stopping ended with their endpoint: Failed with `reason`."""
    failed = []
    for kind in JOB_KINDS.values():
        for record in store.all(kind.key):
            if record[kind.status_field] in TERMINAL_JOB_STATUSES:
                continue
            at = now()
            fields: dict[str, Any] = {kind.status_field: "Failed", "FailureReason": reason, kind.end_field: at}
            if kind.has_secondary_status:
                transitions = record.get("SecondaryStatusTransitions") or []
                if transitions:
                    transitions[-1].setdefault("EndTime", at)
                transitions.append({"Status": "Failed", "StartTime": at, "EndTime": at,
                                    "StatusMessage": f"Training job failed. Reason: {reason}"})
                fields.update(SecondaryStatus="Failed", SecondaryStatusTransitions=transitions)
            store.finish(kind.key, record[kind.name_field], **fields)
            failed.append(record[kind.name_field])
    return failed


def failure_reason(headline: str, tail: list[str] | None = None) -> str:
    """A headline plus as many of the log's last lines as the API's length limit allows."""
    lines: list[str] = []
    budget = FAILURE_REASON_LIMIT - len(headline) - 30
    for line in reversed(tail or []):
        line = line[-300:]
        if budget - len(line) - 1 < 0:
            break
        lines.insert(0, line)
        budget -= len(line) + 1
    if not lines:
        return headline[:FAILURE_REASON_LIMIT]
    return f"{headline} Last lines of the job log:\n" + "\n".join(lines)
