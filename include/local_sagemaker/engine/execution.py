"""One pipeline execution: steps run in dependency order, independent ones in parallel.

The execution runs on its own thread. Steps start when every step they depend on has
succeeded (and, inside a Condition step's branch, when that branch was taken), at most
MaxParallelExecutionSteps at a time. After a failure no new step starts; the running ones
finish and the execution ends Failed with the first failure's reason. StopPipelineExecution
ends the running jobs' processes (Stopping, then Stopped). RetryPipelineExecution runs the
failed, stopped and not-yet-run steps again and keeps what succeeded.
"""

from __future__ import annotations

import copy
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .aws import EndpointClients
from .conditions import evaluate_all
from .definition import PipelineDefinition, StepDefinition
from .errors import StepFailure, StepStopped
from .expressions import ResolutionContext, resolve
from .s3_transfer import read_json
from .step_cache import CacheEntry, StepCache, parse_expire_after
from .steps.processing import run_processing_step
from .steps.registry import run_model_step, run_register_model_step
from .steps.runtime import JobStore, StepOutcome, StepRuntime, now
from .steps.training import run_training_step

DEFAULT_MAX_PARALLEL_STEPS = 50
TERMINAL_STATUSES = ("Succeeded", "Failed", "Stopped")


@dataclass
class StepRecord:
    """One row of ListPipelineExecutionSteps, plus what later steps read from it."""

    step: StepDefinition
    status: str = "Pending"  # Pending and Skipped are never listed
    start_time: datetime | None = None
    end_time: datetime | None = None
    attempt_count: int = 0
    failure_reason: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    cache_source: str | None = None
    outcome: StepOutcome | None = None

    def to_api(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "StepName": self.step.name,
            "StartTime": self.start_time,
            "StepStatus": self.status,
            "AttemptCount": self.attempt_count,
            "Metadata": copy.deepcopy(self.metadata),
        }
        optional = {
            "StepDisplayName": self.step.display_name,
            "StepDescription": self.step.description,
            "EndTime": self.end_time,
            "FailureReason": self.failure_reason,
            "CacheHitResult": {"SourcePipelineExecutionArn": self.cache_source} if self.cache_source else None,
        }
        item.update({key: value for key, value in optional.items() if value is not None})
        return item


@dataclass
class ExecutionSettings:
    arn: str
    execution_id: str
    pipeline_name: str
    pipeline_arn: str
    account_id: str
    region: str
    parameters: dict[str, Any]
    max_parallel_steps: int
    work_dir: Path


class PipelineExecutionRun:
    def __init__(
        self,
        settings: ExecutionSettings,
        definition: PipelineDefinition,
        clients: EndpointClients,
        jobs: JobStore,
        cache: StepCache,
        on_status: Callable[[str, str | None], None],
    ) -> None:
        self.settings = settings
        self.definition = definition
        self.clients = clients
        self.jobs = jobs
        self.cache = cache
        self._on_status = on_status
        self.status = "Executing"
        self.failure_reason: str | None = None
        self.start_time = now()
        self.records = {name: StepRecord(step) for name, step in definition.steps.items()}
        self._order = definition.topological_order()
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._runtimes: list[StepRuntime] = []
        self._thread: threading.Thread | None = None
        self._finished = threading.Event()

    # --- API-facing -------------------------------------------------------------------
    def start(self) -> None:
        self._finished.clear()
        self._thread = threading.Thread(target=self._run, name=f"execution-{self.settings.execution_id}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._lock:
            if self.status in TERMINAL_STATUSES:
                return
            self._set_status("Stopping")
            self._stop.set()
            runtimes = list(self._runtimes)
        for runtime in runtimes:
            for process in runtime.processes:
                process.stop()

    def retry(self) -> None:
        with self._lock:
            for record in self.records.values():
                if record.status in ("Failed", "Stopped", "Skipped"):
                    record.status = "Pending"
            self._stop.clear()
            self.failure_reason = None
            self._set_status("Executing")
        self.start()

    def wait(self, timeout: float | None = None) -> bool:
        return self._finished.wait(timeout)

    def list_steps(self) -> list[dict[str, Any]]:
        with self._lock:
            listed = [record.to_api() for record in self.records.values() if record.status not in ("Pending", "Skipped")]
        return sorted(listed, key=lambda item: item["StartTime"], reverse=True)

    # --- scheduling -------------------------------------------------------------------
    def _run(self) -> None:
        try:
            with ThreadPoolExecutor(max_workers=self.settings.max_parallel_steps, thread_name_prefix="step") as pool:
                running: dict[Future[None], str] = {}
                while True:
                    for name in self._ready_steps(running.values()):
                        running[pool.submit(self._execute, name)] = name
                    if not running:
                        break
                    done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                    for future in done:
                        running.pop(future)
            self._finish()
        except Exception:
            with self._lock:
                self.failure_reason = f"InternalError: {traceback.format_exc(limit=3)[-900:]}"
                self._set_status("Failed")
        finally:
            self._finished.set()

    def _ready_steps(self, running: Any) -> list[str]:
        running = set(running)
        ready: list[str] = []
        with self._lock:
            halted = self._stop.is_set() or any(r.status == "Failed" for r in self.records.values())
            changed = True
            while changed:  # skipping one step can make the steps after it skippable
                changed = False
                for name in self._order:
                    record = self.records[name]
                    if record.status != "Pending" or name in running or name in ready:
                        continue
                    verdict = self._readiness(record.step)
                    if verdict == "skip":
                        record.status = "Skipped"
                        changed = True
                    elif verdict == "ready" and not halted:
                        ready.append(name)
        return ready

    def _readiness(self, step: StepDefinition) -> str:
        for dependency in step.depends_on:
            status = self.records[dependency].status
            if status in ("Skipped", "Failed", "Stopped"):
                return "skip"
            if status != "Succeeded":
                return "wait"
        if step.branch:
            condition, branch = step.branch
            outcome = self.records[condition].metadata.get("Condition", {}).get("Outcome")
            if outcome != ("True" if branch == "If" else "False"):
                return "skip"
        return "ready"

    def _finish(self) -> None:
        with self._lock:
            failed = [r for r in self.records.values() if r.status == "Failed"]
            if failed:
                first = min(failed, key=lambda r: r.end_time or now())
                self.failure_reason = first.failure_reason if first.step.type == "Fail" else (
                    f"Step failure: {first.step.name} failed: {first.failure_reason}"
                )
                self._set_status("Failed")
            elif self._stop.is_set():
                self._set_status("Stopped")
            else:
                self._set_status("Succeeded")

    def _set_status(self, status: str) -> None:
        self.status = status
        self._on_status(status, self.failure_reason)

    # --- one step -----------------------------------------------------------------------
    def _execute(self, name: str) -> None:
        record = self.records[name]
        with self._lock:
            record.status = "Executing"
            record.start_time, record.end_time = now(), None
            record.failure_reason, record.cache_source = None, None
            record.metadata = {}
            record.attempt_count += 1
        try:
            outcome = self._run_step(record)
        except StepStopped:
            self._end(record, "Stopped")
        except StepFailure as error:
            self._end(record, "Failed", str(error))
        except Exception as error:
            self._end(record, "Failed", f"InternalError: {type(error).__name__}: {error}")
        else:
            with self._lock:
                record.outcome = outcome
                record.metadata = outcome.metadata
            self._end(record, "Succeeded")

    def _end(self, record: StepRecord, status: str, reason: str | None = None) -> None:
        with self._lock:
            if status == "Failed" and self._stop.is_set():
                status, reason = "Stopped", None
            record.status, record.failure_reason, record.end_time = status, reason, now()

    def _run_step(self, record: StepRecord) -> StepOutcome:
        step = record.step
        if self._stop.is_set():
            raise StepStopped(step.name)
        context = self._resolution_context()
        if step.type == "Condition":
            outcome = evaluate_all(step.arguments.get("Conditions") or [], lambda v: resolve(v, context))
            text = "True" if outcome else "False"
            return StepOutcome({"Outcome": text}, {"Condition": {"Outcome": text}})
        if step.type == "Fail":
            message = str(resolve(step.arguments.get("ErrorMessage", ""), context))
            with self._lock:
                record.metadata = {"Fail": {"ErrorMessage": message}}
            raise StepFailure(message)
        arguments = resolve(step.arguments, context)
        cache_key, expire_after = None, None
        if step.cache_config:
            expire_after = parse_expire_after(step.cache_config.get("ExpireAfter"))
            cache_key = StepCache.key(self.settings.pipeline_name, step.name, step.type, arguments)
            hit = self.cache.lookup(cache_key, expire_after, now())
            if hit:
                with self._lock:
                    record.cache_source = hit.execution_arn
                return hit.outcome
        outcome = self._run_job_step(record, arguments)
        if cache_key:
            self.cache.store(cache_key, CacheEntry(now(), self.settings.arn, outcome))
        return outcome

    def _run_job_step(self, record: StepRecord, arguments: dict[str, Any]) -> StepOutcome:
        def report_metadata(metadata: dict[str, Any]) -> None:
            with self._lock:
                record.metadata = metadata

        runtime = StepRuntime(
            clients=self.clients, work_dir=self.settings.work_dir, account_id=self.settings.account_id,
            region=self.settings.region, execution_id=self.settings.execution_id,
            execution_arn=self.settings.arn, step_name=record.step.name, jobs=self.jobs,
            stop_requested=self._stop, report_metadata=report_metadata,
        )
        with self._lock:
            self._runtimes.append(runtime)
        try:
            kind = record.step.type
            if kind == "Processing":
                return run_processing_step(runtime, arguments, record.step.property_files)
            if kind == "Training":
                return run_training_step(runtime, arguments)
            if kind == "RegisterModel":
                return run_register_model_step(runtime, arguments)
            if kind == "Model":
                return run_model_step(runtime, arguments)
            raise StepFailure(f"Step type {kind} is not supported")
        finally:
            with self._lock:
                self._runtimes.remove(runtime)

    def _resolution_context(self) -> ResolutionContext:
        settings = self.settings

        def step_properties(name: str) -> dict[str, Any] | None:
            record = self.records.get(name)
            return record.outcome.properties if record and record.outcome else None

        def property_file(step_name: str, file_name: str) -> Any:
            record = self.records.get(step_name)
            if not record or not record.outcome:
                raise StepFailure(f"Step '{step_name}' has not run, so its property file '{file_name}' does not exist")
            if file_name not in record.outcome.property_files:
                raise StepFailure(f"Step '{step_name}' has no property file '{file_name}'")
            return record.outcome.property_files[file_name]

        return ResolutionContext(
            parameters=settings.parameters,
            execution_variables={
                "PipelineExecutionId": settings.execution_id,
                "PipelineExecutionArn": settings.arn,
                "PipelineName": settings.pipeline_name,
                "PipelineArn": settings.pipeline_arn,
                "StartDateTime": self.start_time.isoformat(),
                "CurrentDateTime": now().isoformat(),
            },
            step_properties=step_properties,
            property_file=property_file,
            json_from_s3=lambda uri: read_json(self.clients.s3, uri),
        )
