"""What changed between two step listings, and why an execution failed, as log-ready text.

Shared by the trigger (async, in the triggerer) and the sensor's synchronous poke, so both
write the same lines to the task log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .statuses import EXECUTION_STOPPED, STEP_ENDED, STEP_UNSUCCESSFUL

_JOB_KINDS = ("ProcessingJob", "TrainingJob", "TransformJob", "TuningJob")
_EXECUTION_JOB_PREFIX = re.compile(r"^pipelines-[a-z0-9]+-")


def step_kind(step: dict[str, Any]) -> str | None:
    """What the step is, from its Metadata (ListPipelineExecutionSteps has no step type field)."""
    metadata = step.get("Metadata") or {}
    return next(iter(metadata), None)


def _step_resource(step: dict[str, Any]) -> str:
    metadata = step.get("Metadata") or {}
    for kind, entry in metadata.items():
        if not isinstance(entry, dict):
            continue
        if entry.get("Arn"):
            return f" [{kind} {_short_name(kind, entry['Arn'])}]"
        if "Outcome" in entry:
            return f" [{kind} outcome {entry['Outcome']}]"
    return ""


def _short_name(kind: str, arn: str) -> str:
    """What tells the resource apart, short enough for the log view's width: a job's name without the
    `pipelines-<execution id>-` every job of the execution shares; another resource's path (group/version)."""
    if kind in _JOB_KINDS:
        return _EXECUTION_JOB_PREFIX.sub("", arn.rsplit("/", 1)[-1])
    return arn.split(":", 5)[-1].split("/", 1)[-1]


def _duration(step: dict[str, Any]) -> str:
    start, end = step.get("StartTime"), step.get("EndTime")
    if start is None or end is None or not hasattr(end, "__sub__"):
        return ""
    return f" after {(end - start).total_seconds():.1f} s"


@dataclass
class StepProgress:
    """Remembers each step's last status; `changes` yields one line per step that moved."""

    statuses: dict[str, str] = field(default_factory=dict)

    def changes(self, steps: list[dict[str, Any]]) -> list[str]:
        lines = []
        for step in steps:
            name, status = step["StepName"], step["StepStatus"]
            previous = self.statuses.get(name)
            if previous == status:
                continue
            self.statuses[name] = status
            transition = f"{previous} -> {status}" if previous else status
            line = f"Step {name}: {transition}{_step_resource(step)}"
            if status in STEP_ENDED:
                line += _duration(step)
            if step.get("FailureReason"):
                line += f": {step['FailureReason']}"
            lines.append(line)
        return lines


@dataclass(frozen=True)
class ExecutionFailure:
    """Why an execution did not succeed, in SageMaker's own words."""

    status: str
    reason: str
    failed_step: str | None = None  # the first step that did not succeed
    failed_step_type: str | None = None
    failed_steps: tuple[str, ...] = ()  # every step that did not succeed, oldest first

    def message(self, execution_arn: str) -> str:
        where = f" at step {self.failed_step}" if self.failed_step else ""
        return f"Pipeline execution {execution_arn} {self.status}{where}: {self.reason}"


def _step_reason(step: dict[str, Any]) -> str:
    reason = step.get("FailureReason")
    return f"{step['StepName']} {step['StepStatus']}" + (f": {reason}" if reason else "")


def execution_failure(description: dict[str, Any], steps: list[dict[str, Any]]) -> ExecutionFailure:
    """The failed steps and the execution's FailureReason, never 'Unknown' when SageMaker said more.

    One failed step: SageMaker's reason for the execution, else the step's. Several (an execution
    that CompletedWithFailures, or parallel steps that failed): each is named with its reason.
    """
    status = description["PipelineExecutionStatus"]
    failed = [s for s in steps if s.get("StepStatus") in STEP_UNSUCCESSFUL]  # listings are requested oldest first
    first = failed[0] if failed else None
    reason = description.get("FailureReason")
    if len(failed) > 1:
        listed = "; ".join(_step_reason(step) for step in failed)
        reason = f"{reason}; steps that did not succeed: {listed}" if reason else f"{len(failed)} steps did not succeed: {listed}"
    elif not reason and first is not None:
        reason = first.get("FailureReason")
    if not reason:
        reason = "stopped before it finished" if status == EXECUTION_STOPPED else "SageMaker gave no failure reason"
    return ExecutionFailure(
        status=status,
        reason=reason,
        failed_step=(first or {}).get("StepName"),
        failed_step_type=step_kind(first) if first else None,
        failed_steps=tuple(step["StepName"] for step in failed),
    )
