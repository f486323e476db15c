"""One pipeline execution: steps run in dependency order, independent ones in parallel.

The execution runs on its own thread, which begins only once StartPipelineExecution has
answered (`release()`), as on AWS where the call returns while the execution is Executing and
no step has started. Steps start when every step they depend on reached the outcome its run
condition asks for (Completed by default; Failed, Stopped or Any with a StepDependency) and,
inside a Condition step's branch, when that branch was taken; at most
MaxParallelExecutionSteps at a time. An optional start-up delay keeps each step Starting for a
while, as SageMaker's minutes-long job start-ups do, so that races show up locally.

After a failure no new step starts except those whose run condition waits for it; the running
ones finish, and the execution ends Failed with the first failure's reason, or
CompletedWithFailures when every failed step had a step run on its failure.
StopPipelineExecution stops the running jobs (Stopping, then Stopped). RetryPipelineExecution
runs the failed, stopped and not-yet-run steps again and keeps what succeeded. Steps are
dispatched through steps.RUNNERS, the one list of step types.

Every change is reported (`on_change`) so that it is saved; `saved()` is what a restart keeps
(statuses, times, metadata, outcomes: plain data) and `restored()` rebuilds the execution
from it, ending what was still running as the endpoint's restart ended it (interruption.py).
"""

from __future__ import annotations

import copy
import dataclasses
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .definition_parser import PipelineDefinition, StepDefinition
from .errors import StepFailure, StepStopped
from .expressions import ResolutionContext, resolve
from .interruption import RESTART_REASON
from .job_store import now
from .jobs.lifecycle import JobContext
from .outcome import StepOutcome
from .s3_transfer import read_json
from .step_cache import CacheEntry, StepCache, parse_expire_after
from .steps import RUNNERS
from .steps.step_runtime import StepRuntime

DEFAULT_MAX_PARALLEL_STEPS = 50
TERMINAL_STATUSES = ("Succeeded", "Failed", "Stopped", "CompletedWithFailures")
RELEASE_TIMEOUT_SECONDS = 5.0  # a response that never closes must not hold the execution for good
_ENDED_STEP = ("Succeeded", "Failed", "Stopped")
_MET_BY = {"Completed": ("Succeeded",), "Failed": ("Failed",), "Stopped": ("Stopped",), "Any": _ENDED_STEP}
_RUNNING_STEP = ("Starting", "Executing", "Stopping")
_SAVED_STEP_FIELDS = ("status", "start_time", "end_time", "attempt_count", "failure_reason", "metadata", "cache_source")

# (experiment name, trial name) -> None; raises StepFailure when the entities cannot be had.
ExperimentHook = Callable[[str, str], None]


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
    step_startup_delay: float = 0.0
    # StartPipelineExecution's MlflowExperimentName: overrides the definition's MlflowConfig experiment.
    mlflow_experiment_name: str | None = None


class PipelineExecutionRun:
    def __init__(
        self,
        settings: ExecutionSettings,
        definition: PipelineDefinition,
        context: Callable[[], JobContext],
        cache: StepCache,
        on_status: Callable[[str, str | None], None],
        on_experiment: ExperimentHook | None = None,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        """`context` gives the jobs' context when a step needs it (a restored execution exists before the server)."""
        self.settings = settings
        self.definition = definition
        self._context = context
        self.cache = cache
        self._on_status = on_status
        self._on_experiment = on_experiment
        self._on_change_callback = on_change or (lambda: None)
        self._saved: dict[str, Any] | None = None  # saved() of a finished execution, until it changes
        self.status = "Executing"
        self.failure_reason: str | None = None
        self.start_time = now()
        self.experiment_config: dict[str, str] | None = None
        self.records = {name: StepRecord(step) for name, step in definition.steps.items()}
        self._order = definition.topological_order()
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._runtimes: list[StepRuntime] = []
        self._thread: threading.Thread | None = None
        self._released = threading.Event()
        self._finished = threading.Event()

    @property
    def context(self) -> JobContext:
        return self._context()

    @property
    def mlflow_config(self) -> dict[str, str] | None:
        """DescribePipelineExecution's MLflowConfig: the definition's MlflowConfig (its values resolved), with
        StartPipelineExecution's MlflowExperimentName over its experiment; None when neither names anything."""
        config: dict[str, str] = {}
        for field_name, value in (self.definition.raw.get("MlflowConfig") or {}).items():
            if field_name not in ("MlflowResourceArn", "MlflowExperimentName") or value is None:
                continue
            try:
                config[field_name] = str(resolve(value, self._resolution_context()))
            except StepFailure:  # an expression only a step could answer: not the execution's configuration
                continue
        if self.settings.mlflow_experiment_name:
            config["MlflowExperimentName"] = self.settings.mlflow_experiment_name
        return config or None

    # --- saved and restored -------------------------------------------------------------
    def saved(self) -> dict[str, Any]:
        """What a restart keeps of this execution: plain data, no threads, jobs or clients.

        Every snapshot of the SageMaker service asks every execution: a finished one keeps its answer.
        """
        with self._lock:
            if self._saved is not None:
                return self._saved
            saved = self._describe_for_saving()
            if self.status in TERMINAL_STATUSES:
                self._saved = saved
            return saved

    def _describe_for_saving(self) -> dict[str, Any]:
        with self._lock:
            settings = dataclasses.asdict(self.settings)
            for local in ("work_dir", "step_startup_delay"):  # the restarted endpoint's own
                settings.pop(local)
            return copy.deepcopy({
                "settings": settings,
                "status": self.status,
                "failure_reason": self.failure_reason,
                "start_time": self.start_time,
                "experiment_config": self.experiment_config,
                "steps": {
                    name: {
                        **{field_name: getattr(record, field_name) for field_name in _SAVED_STEP_FIELDS},
                        "outcome": dataclasses.asdict(record.outcome) if record.outcome else None,
                    }
                    for name, record in self.records.items()
                },
            })

    @classmethod
    def restored(
        cls,
        saved: dict[str, Any],
        definition: PipelineDefinition,
        local_settings: dict[str, Any],
        **callbacks: Any,
    ) -> PipelineExecutionRun:
        """The execution `saved()` described; what was running then is ended as a restart ends it.

        `local_settings`: this endpoint's work_dir and step_startup_delay; `callbacks`: the
        constructor's context, cache, on_status, on_experiment and on_change.
        """
        run = cls(ExecutionSettings(**saved["settings"], **local_settings), definition, **callbacks)
        run.status, run.failure_reason = saved["status"], saved["failure_reason"]
        run.start_time, run.experiment_config = saved["start_time"], saved["experiment_config"]
        for name, fields in saved["steps"].items():
            record = run.records.get(name)
            if record is None:
                continue
            for field_name in _SAVED_STEP_FIELDS:
                setattr(record, field_name, fields[field_name])
            record.outcome = StepOutcome(**fields["outcome"]) if fields["outcome"] else None
        run._released.set()
        run._finished.set()
        if run.status not in TERMINAL_STATUSES:
            run._end_interrupted()
        return run

    def _on_change(self) -> None:
        """After any change of the execution or its steps: drop the kept saved() and report it."""
        self._saved = None
        self._on_change_callback()

    def _end_interrupted(self) -> None:
        """Executing -> Failed (RESTART_REASON); Stopping -> Stopped, as the stop asked. Running steps likewise."""
        stopping = self.status == "Stopping"
        with self._lock:
            for record in self.records.values():
                if record.status in _RUNNING_STEP:
                    record.status, record.end_time = ("Stopped" if stopping else "Failed"), now()
                    record.failure_reason = None if stopping else RESTART_REASON
            self.failure_reason = None if stopping else RESTART_REASON
            self._set_status("Stopped" if stopping else "Failed")

    # --- API-facing -------------------------------------------------------------------
    def start(self) -> None:
        """Start the execution's thread; it schedules no step before `release()`."""
        self._finished.clear()
        self._thread = threading.Thread(target=self._run, name=f"execution-{self.settings.execution_id}", daemon=True)
        self._thread.start()

    def release(self) -> None:
        """The StartPipelineExecution (or Retry) response is out: steps may start."""
        self._released.set()

    def stop(self) -> None:
        with self._lock:
            if self.status in TERMINAL_STATUSES:
                return
            self._set_status("Stopping")
            self._stop.set()
            runtimes = list(self._runtimes)
        for runtime in runtimes:
            for job in runtime.jobs:
                job.stop()

    def retry(self) -> None:
        with self._lock:
            for record in self.records.values():
                if record.status in ("Failed", "Stopped", "Skipped"):
                    record.status = "Pending"
            self._stop.clear()
            self._released.clear()
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
            self._released.wait(RELEASE_TIMEOUT_SECONDS)
            self._join_experiment()
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
        except StepFailure as error:
            with self._lock:
                self.failure_reason = str(error)
                self._set_status("Failed")
        except Exception:
            with self._lock:
                self.failure_reason = f"InternalError: {traceback.format_exc(limit=3)[-900:]}"
                self._set_status("Failed")
        finally:
            self._finished.set()

    def _join_experiment(self) -> None:
        """PipelineExperimentConfig: the experiment (pipeline name by default) and this execution's trial."""
        config = self.definition.experiment_config
        if config is None or self._on_experiment is None or self.experiment_config:
            return
        context = self._resolution_context()
        experiment = str(resolve(config.get("ExperimentName") or self.settings.pipeline_name, context))
        trial = str(resolve(config.get("TrialName") or self.settings.execution_id, context))
        self._on_experiment(experiment, trial)
        self.experiment_config = {"ExperimentName": experiment, "TrialName": trial}
        self._on_change()

    def _ready_steps(self, running: Any) -> list[str]:
        running = set(running)
        ready: list[str] = []
        with self._lock:
            stopped = self._stop.is_set()
            failed = any(r.status == "Failed" for r in self.records.values())
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
                        self._on_change()
                    elif verdict == "ready" and not stopped and (not failed or self._waits_for_an_outcome(record.step)):
                        ready.append(name)
        return ready

    @staticmethod
    def _waits_for_an_outcome(step: StepDefinition) -> bool:
        """A step with a Failed/Stopped/Any run condition still runs after a failure."""
        return any(step.trigger(dependency) != "Completed" for dependency in step.depends_on)

    def _readiness(self, step: StepDefinition) -> str:
        for dependency in step.depends_on:
            status = self.records[dependency].status
            if status == "Skipped":
                return "skip"
            if status not in _ENDED_STEP:
                return "wait"
            if status not in _MET_BY[step.trigger(dependency)]:
                return "skip"
        if step.branch:
            condition, branch = step.branch
            outcome = self.records[condition].metadata.get("Condition", {}).get("Outcome")
            if outcome != ("True" if branch == "If" else "False"):
                return "skip"
        return "ready"

    def _finish(self) -> None:
        with self._lock:
            failed = [r for r in self.records.values() if r.status == "Failed"]
            unhandled = [r for r in failed if not self._handled(r.step.name)]
            if unhandled:
                first = min(unhandled, key=lambda r: r.end_time or now())
                self.failure_reason = first.failure_reason if first.step.type == "Fail" else (
                    f"Step failure: {first.step.name} failed: {first.failure_reason}"
                )
                self._set_status("Failed")
            elif self._stop.is_set():
                self._set_status("Stopped")
            elif failed:
                self._set_status("CompletedWithFailures")
            else:
                self._set_status("Succeeded")

    def _handled(self, failed_step: str) -> bool:
        """Some step ran because this one failed (a Failed or Any run condition)."""
        return any(
            record.status in _ENDED_STEP and record.step.trigger(failed_step) in ("Failed", "Any")
            for record in self.records.values()
            if failed_step in record.step.depends_on
        )

    def _set_status(self, status: str) -> None:
        self.status = status
        self._on_status(status, self.failure_reason)
        self._on_change()

    # --- one step -----------------------------------------------------------------------
    def _execute(self, name: str) -> None:
        record = self.records[name]
        delay = self.settings.step_startup_delay
        with self._lock:
            record.status = "Starting" if delay else "Executing"
            record.start_time, record.end_time = now(), None
            record.failure_reason, record.cache_source = None, None
            record.metadata = {}
            record.attempt_count += 1
        self._on_change()
        try:
            if delay:
                self._stop.wait(delay)  # SageMaker's start-up; StopPipelineExecution cuts it short
                with self._lock:
                    record.status = "Executing"
                self._on_change()
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
        self._on_change()

    def _run_step(self, record: StepRecord) -> StepOutcome:
        step = record.step
        if self._stop.is_set():
            raise StepStopped(step.name)
        step_type = RUNNERS[step.type]
        runtime = self._runtime(record)
        cache_key, expire_after = None, None
        if step.cache_config and step_type.cache_key_fields:
            expire_after = parse_expire_after(step.cache_config.get("ExpireAfter"))
            arguments = runtime.arguments()
            attributes = {name: arguments.get(name) for name in step_type.cache_key_fields}
            cache_key = StepCache.key(self.settings.pipeline_name, step.name, step.type, attributes)
            hit = self.cache.lookup(cache_key, expire_after, now())
            if hit:
                with self._lock:
                    record.cache_source = hit.execution_arn
                return hit.outcome
        with self._lock:
            self._runtimes.append(runtime)
        try:
            outcome = step_type.run(runtime)
        finally:
            with self._lock:
                self._runtimes.remove(runtime)
        if cache_key:
            self.cache.store(cache_key, CacheEntry(now(), self.settings.arn, outcome))
        return outcome

    def _runtime(self, record: StepRecord) -> StepRuntime:
        def report_metadata(metadata: dict[str, Any]) -> None:
            with self._lock:
                record.metadata = metadata
            self._on_change()

        context = self._resolution_context()
        return StepRuntime(
            context=self.context, step=record.step, execution_id=self.settings.execution_id,
            execution_arn=self.settings.arn, stop_requested=self._stop,
            resolve=lambda value: resolve(value, context), report_metadata=report_metadata,
            experiment_config=self.experiment_config,
        )

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
            json_from_s3=lambda uri: read_json(self.context.clients.s3, uri),
        )
