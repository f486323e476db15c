"""One pipeline execution as the run's "SageMaker execution" tab shows it: its step graph with each step's status
and the condition branches taken, the steps' timeline, the failure and the failed step's last log lines.

Read through the package's hooks (DescribePipelineExecution, ListPipelineExecutionSteps,
DescribePipelineDefinitionForExecution, and CloudWatch Logs for a failed step). A succeeded
execution never changes, so it is read once per api-server process; a running one, and a failed or
stopped one (a clear of the wait resumes it under the same ARN), at most every RECHECK_SECONDS, so a
tab left open makes a bounded number of calls.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, TypedDict

from ..statuses import EXECUTION_ENDED, EXECUTION_RESUMABLE, EXECUTION_UNSUCCESSFUL

RECHECK_SECONDS = 10.0  # how long the view of an execution that may still change is reused
CACHED_EXECUTIONS = 512
LOG_LINES = 20


class StepView(TypedDict):
    name: str
    type: str
    status: str
    depends_on: list[str]  # the steps it waits for (DependsOn and the properties it reads)
    branch_of: str | None  # the condition step whose branch it is on
    on_branch: bool | None  # which branch: True (if) or False (else)
    condition_outcome: bool | None  # a condition step's: the branch it took
    started: str | None
    ended: str | None
    seconds: float | None
    failure_reason: str | None
    job_arn: str | None


class ExecutionView(TypedDict):
    execution_arn: str
    pipeline_name: str
    status: str
    failure_reason: str | None
    started: str | None
    ended: str | None
    steps: list[StepView]
    failed_step: str | None
    failed_step_log: list[str]  # the failed step's job's last log lines


class _Cache:
    """Views by execution ARN: a final one kept (least recently used dropped first), another for RECHECK_SECONDS."""

    def __init__(self) -> None:
        self._views: OrderedDict[str, tuple[float, ExecutionView]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, arn: str, read: Callable[[], ExecutionView]) -> ExecutionView:
        with self._lock:
            cached = self._views.get(arn)
            if cached and cached[0] > time.monotonic():
                self._views.move_to_end(arn)
                return cached[1]
        view = read()
        final = view["status"] in EXECUTION_ENDED - EXECUTION_RESUMABLE
        expires = float("inf") if final else time.monotonic() + RECHECK_SECONDS
        with self._lock:
            self._views[arn] = (expires, view)
            self._views.move_to_end(arn)
            while len(self._views) > CACHED_EXECUTIONS:
                self._views.popitem(last=False)
        return view


CACHE = _Cache()


def execution_view(execution_arn: str, aws_conn_id: str | None = "aws_default") -> ExecutionView:
    """The execution's view, from the cache or read now."""
    return CACHE.get(execution_arn, lambda: read_execution(execution_arn, aws_conn_id))


def read_execution(execution_arn: str, aws_conn_id: str | None) -> ExecutionView:
    from ..hooks.pipeline_execution import PipelineExecutionHook
    from ..links import execution_arn_parts
    from ..step_progress import execution_failure

    hook = PipelineExecutionHook(aws_conn_id=aws_conn_id)
    described = hook.describe_pipeline_exec(execution_arn)
    step_list = hook.list_execution_steps(execution_arn)
    listed = {step["StepName"]: step for step in step_list}
    steps = steps_of(hook.execution_definition(execution_arn), listed)
    failure = execution_failure(described, step_list) \
        if described["PipelineExecutionStatus"] in EXECUTION_UNSUCCESSFUL else None
    failed = failure.failed_step if failure else None
    return {
        "execution_arn": execution_arn,
        "pipeline_name": execution_arn_parts(execution_arn)["pipeline_name"],
        "status": described["PipelineExecutionStatus"],
        "failure_reason": failure.reason if failure else None,
        "started": _iso(described.get("CreationTime")), "ended": _iso(described.get("LastModifiedTime"))
        if described["PipelineExecutionStatus"] in EXECUTION_ENDED else None,
        "steps": steps, "failed_step": failed,
        "failed_step_log": _log_tail(hook, listed[failed]) if failed and failed in listed else [],
    }


def steps_of(definition: dict[str, Any], listed: dict[str, dict[str, Any]]) -> list[StepView]:
    """Every step of the definition (condition branches included), in definition order, with what the listing
    says of it; a step the execution never reached is NotStarted."""
    views: list[StepView] = []
    for step, branch_of, on_branch in _walk(definition.get("Steps") or [], None, None):
        run = listed.get(step["Name"], {})
        started, ended = run.get("StartTime"), run.get("EndTime")
        condition = ((run.get("Metadata") or {}).get("Condition") or {}).get("Outcome")
        views.append({
            "name": step["Name"], "type": step.get("Type", ""), "status": run.get("StepStatus", "NotStarted"),
            "depends_on": sorted(_dependencies(step)), "branch_of": branch_of, "on_branch": on_branch,
            "condition_outcome": None if condition is None else str(condition).lower() == "true",
            "started": _iso(started), "ended": _iso(ended),
            "seconds": (ended - started).total_seconds() if isinstance(started, datetime)
            and isinstance(ended, datetime) else None,
            "failure_reason": run.get("FailureReason"),
            "job_arn": next((value.get("Arn") for value in (run.get("Metadata") or {}).values()
                             if isinstance(value, dict) and value.get("Arn")), None),
        })
    return views


def _walk(steps: list[dict[str, Any]], branch_of: str | None,
          on_branch: bool | None) -> Iterator[tuple[dict[str, Any], str | None, bool | None]]:
    for step in steps:
        yield step, branch_of, on_branch
        if step.get("Type") == "Condition":
            arguments = step.get("Arguments") or {}
            yield from _walk(arguments.get("IfSteps") or [], step["Name"], True)
            yield from _walk(arguments.get("ElseSteps") or [], step["Name"], False)


def _dependencies(step: dict[str, Any]) -> set[str]:
    """DependsOn, and every step whose properties or property files the step reads."""
    found = set(step.get("DependsOn") or [])

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("IfSteps", "ElseSteps"):
                    continue
                if key == "Get" and isinstance(value, str) and value.startswith("Steps."):
                    found.add(value.split(".")[1])
                elif key == "Std:JsonGet" and isinstance(value, dict):
                    file = (value.get("PropertyFile") or {}).get("Get", "")
                    if file.startswith("Steps."):
                        found.add(file.split(".")[1])
                visit(value)
        elif isinstance(node, list):
            for item in node:
                visit(item)

    visit(step.get("Arguments") or {})
    visit({key: value for key, value in step.items() if key not in ("Arguments", "Name", "Type")})
    found.discard(step.get("Name"))
    return found


def _log_tail(hook: Any, step: dict[str, Any]) -> list[str]:
    """The step's job's last log lines; none when they cannot be read (the tab still shows the execution)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from ..failed_step_logs import step_log_tails

    try:
        found = step_log_tails(hook, step, LOG_LINES)
    except (ClientError, BotoCoreError):
        return []
    return [line for lines in found[2].values() for line in lines][-LOG_LINES:] if found else []


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else None
