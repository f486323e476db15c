"""What a step runner gets from the execution running it, and what it gives back."""

from __future__ import annotations

import re
import secrets
import string
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..aws import EndpointClients
from ..errors import StepFailure
from ..job_process import JobProcess

FAILURE_REASON_LIMIT = 1024  # the API's maximum length of a FailureReason


@dataclass
class StepOutcome:
    properties: dict[str, Any]  # what `Get Steps.<name>.<path>` reads
    metadata: dict[str, Any]  # ListPipelineExecutionSteps Metadata
    property_files: dict[str, Any] = field(default_factory=dict)  # name -> JSON document


class JobStore:
    """Processing and training jobs by name, as DescribeProcessingJob/DescribeTrainingJob show them.

    Names are matched case-insensitively, as SageMaker does: job ARNs carry the name lowercased.
    """

    def __init__(self) -> None:
        self._jobs: dict[tuple[str, str], dict[str, Any]] = {}
        self._lock = threading.Lock()

    def put(self, kind: str, name: str, record: dict[str, Any]) -> None:
        with self._lock:
            self._jobs[(kind, name.lower())] = record

    def update(self, kind: str, name: str, **changes: Any) -> None:
        with self._lock:
            record = self._jobs[(kind, name.lower())]
            record.update({key: value for key, value in changes.items() if value is not None})
            record["LastModifiedTime"] = now()

    def run(self, kind: str, name: str, work: Callable[[], Any], status_fields: tuple[str, ...], end_field: str) -> Any:
        """Run a job's work; a failure or a stop leaves the job Failed or Stopped, with its end time."""
        try:
            return work()
        except StepFailure as error:
            self.update(kind, name, FailureReason=str(error), **dict.fromkeys(status_fields, "Failed"), **{end_field: now()})
            raise
        except BaseException:
            self.update(kind, name, **dict.fromkeys(status_fields, "Stopped"), **{end_field: now()})
            raise

    def get(self, kind: str, name: str) -> dict[str, Any] | None:
        with self._lock:
            record = self._jobs.get((kind, name.lower()))
            return dict(record) if record else None


@dataclass
class StepRuntime:
    """Per-step access to the endpoint, the work folder and the execution's stop signal."""

    clients: EndpointClients
    work_dir: Path
    account_id: str
    region: str
    execution_id: str
    execution_arn: str
    step_name: str
    jobs: JobStore
    stop_requested: threading.Event
    # Shows a step's Metadata (job ARNs) in the step listing while it still runs.
    report_metadata: Callable[[dict[str, Any]], None]
    processes: list[JobProcess] = field(default_factory=list)

    def job_name(self) -> str:
        """Like SageMaker's `pipelines-<execution id>-<step>-<random>`, at most 63 characters."""
        step = re.sub(r"[^A-Za-z0-9-]", "-", self.step_name)[:26].strip("-") or "step"
        suffix = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(10))
        return f"pipelines-{self.execution_id}-{step}-{suffix}"

    def arn(self, resource: str, name: str) -> str:
        return f"arn:aws:sagemaker:{self.region}:{self.account_id}:{resource}/{name.lower()}"

    def track(self, process: JobProcess) -> None:
        self.processes.append(process)
        if self.stop_requested.is_set():
            process.stop()


def now() -> datetime:
    return datetime.now(UTC)


def failure_reason(headline: str, tail: list[str]) -> str:
    """A headline plus as many of the log's last lines as the API's length limit allows."""
    lines: list[str] = []
    budget = FAILURE_REASON_LIMIT - len(headline) - 30
    for line in reversed(tail):
        line = line[-300:]
        if budget - len(line) - 1 < 0:
            break
        lines.insert(0, line)
        budget -= len(line) + 1
    if not lines:
        return headline[:FAILURE_REASON_LIMIT]
    return f"{headline} Last lines of the job log:\n" + "\n".join(lines)
