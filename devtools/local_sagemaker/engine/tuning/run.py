"""One hyperparameter tuning job: its trials are real training jobs, at most MaxParallelTrainingJobs at a time.

The job runs on its own thread, which starts once CreateHyperParameterTuningJob has answered. Each
trial is a training job of the engine (the same as CreateTrainingJob's), named as AWS names them,
`<tuning job>-<3-digit index>-<8 hex>`, with the definition's static hyperparameters, the values
the strategy chose, `_tuning_objective_metric` for a built-in algorithm (as AWS passes it) and
`TuningJobArn`. Its objective is read from its FinalMetricDataList (the algorithm's metrics, or
the definition's MetricDefinitions applied to its log). The job ends Completed with its best
trial, Failed when no trial reported the objective, or Stopped after StopHyperParameterTuningJob
(Stopping while its trials end). `MaxRuntimeInSeconds` stops the running trials; the completion
criteria TargetObjectiveMetricValue and BestObjectiveNotImproving end the search early.

Pickled, a tuning job keeps its record and its trials' names; the trials' training jobs are in
the JobStore. A restored job that was running is Failed with the restart's reason (Stopping:
Stopped), as executions are (interruption.py); its trials are failed by the JobStore's restore.
"""

from __future__ import annotations

import contextlib
import copy
import secrets
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..builtin_algorithms import builtin_algorithm
from ..errors import StepFailure, StepStopped
from ..interruption import RESTART_REASON
from ..job_store import JobStore, now
from ..jobs.kinds import TRAINING
from ..jobs.lifecycle import FAILURE_REASON_LIMIT, JobContext, JobRun
from ..jobs.training import REQUEST_FIELDS, run_training_job, training_request
from .strategies import STRATEGIES, Strategy, Values
from .tuning_checks import TrainingDefinition

TERMINAL_TUNING_STATUSES = ("Completed", "Failed", "Stopped")
RELEASE_TIMEOUT_SECONDS = 5.0
POLL_SECONDS = 0.5  # how often the scheduler looks at the clock while trials run
DEFAULT_RESOURCES = {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 30}


@dataclass
class Trial:
    name: str
    definition: str
    tuned: dict[str, str]
    metric: str
    objective_type: str


class TuningJobRun:
    def __init__(self, name: str, arn: str, request: dict[str, Any], definitions: list[TrainingDefinition],
                 on_change: Callable[[], None] | None = None) -> None:
        self.name = name
        self.arn = arn
        self.request = copy.deepcopy(request)
        self.definitions = definitions
        self.status = "InProgress"
        self.failure_reason: str | None = None
        self.creation_time = now()
        self.end_time: datetime | None = None
        self.last_modified_time = self.creation_time
        self.trials: list[Trial] = []
        self._local(on_change)

    def _local(self, on_change: Callable[[], None] | None) -> None:
        """What a pickle does not keep: locks, events, the thread, the running trials."""
        self._on_change = on_change or (lambda: None)
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self.released = threading.Event()
        self._finished = threading.Event()
        self._live: dict[str, JobRun] = {}
        self._timed_out = False
        self._thread: threading.Thread | None = None

    def __getstate__(self) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy({key: value for key, value in self.__dict__.items()
                                  if key in ("name", "arn", "request", "status", "failure_reason", "creation_time",
                                             "end_time", "last_modified_time", "trials")})

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.definitions = []
        self._local(None)
        self._finished.set()
        if self.status not in TERMINAL_TUNING_STATUSES:  # the endpoint ended while it ran: its trials did too
            stopping = self.status == "Stopping"
            self.status = "Stopped" if stopping else "Failed"
            self.failure_reason = None if stopping else RESTART_REASON
            self.end_time = self.last_modified_time = now()

    def listen(self, on_change: Callable[[], None] | None) -> None:
        self._on_change = on_change or (lambda: None)

    # --- API-facing ---------------------------------------------------------------------
    @property
    def config(self) -> dict[str, Any]:
        return self.request["HyperParameterTuningJobConfig"]

    def start(self, context: JobContext) -> None:
        self._thread = threading.Thread(target=self._run, args=(context,), name=f"tuning-{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """StopHyperParameterTuningJob: Stopping at once, Stopped when the running trials have ended."""
        with self._lock:
            self._set_status("Stopping")
        self.shutdown()

    def shutdown(self) -> None:
        """End the running trials and launch no more (the endpoint's stop: the status stays for the restart to judge)."""
        self._stop.set()
        self.released.set()
        with self._lock:
            running = list(self._live.values())
        for job in running:
            job.stop()

    def wait(self, timeout: float | None = None) -> bool:
        return self._finished.wait(timeout)

    def describe(self, jobs: JobStore) -> dict[str, Any]:
        with self._lock:
            summaries = self.training_job_summaries(jobs)
            description: dict[str, Any] = {
                "HyperParameterTuningJobName": self.name,
                "HyperParameterTuningJobArn": self.arn,
                "HyperParameterTuningJobConfig": copy.deepcopy(self.config),
                "HyperParameterTuningJobStatus": self.status,
                "CreationTime": self.creation_time,
                "LastModifiedTime": self.last_modified_time,
                "TrainingJobStatusCounters": _training_counters(summaries),
                "ObjectiveStatusCounters": _objective_counters(summaries),
            }
            for field in ("TrainingJobDefinition", "TrainingJobDefinitions"):
                if self.request.get(field):
                    description[field] = copy.deepcopy(self.request[field])
            if self.end_time:
                description["HyperParameterTuningEndTime"] = self.end_time
            best = best_summary(summaries)
            if best:
                description["BestTrainingJob"] = best
            if self.failure_reason:
                description["FailureReason"] = self.failure_reason
            return description

    def summary(self, jobs: JobStore) -> dict[str, Any]:
        """ListHyperParameterTuningJobs' item."""
        description = self.describe(jobs)
        fields = ("HyperParameterTuningJobName", "HyperParameterTuningJobArn", "HyperParameterTuningJobStatus",
                  "CreationTime", "HyperParameterTuningEndTime", "LastModifiedTime", "TrainingJobStatusCounters",
                  "ObjectiveStatusCounters")
        item = {field: description[field] for field in fields if field in description}
        item["Strategy"] = self.config["Strategy"]
        item["ResourceLimits"] = copy.deepcopy(self.config["ResourceLimits"])
        return item

    def training_job_summaries(self, jobs: JobStore) -> list[dict[str, Any]]:
        """ListTrainingJobsForHyperParameterTuningJob's items, in the order the trials started."""
        with self._lock:
            trials = list(self.trials)
        several = bool(self.request.get("TrainingJobDefinitions"))
        return [_trial_summary(trial, jobs.get(TRAINING.key, trial.name), self.name, several) for trial in trials]

    # --- the search -----------------------------------------------------------------------
    def _run(self, context: JobContext) -> None:
        try:
            self.released.wait(RELEASE_TIMEOUT_SECONDS)
            self._search(context)
            self._finish(context.jobs)
        except Exception:
            with self._lock:
                self.failure_reason = f"InternalError: {traceback.format_exc(limit=3)[-900:]}"
                self._set_status("Failed")
        finally:
            self._finished.set()

    def _search(self, context: JobContext) -> None:
        limits = self.config["ResourceLimits"]
        seed = self.config.get("RandomSeed")
        strategy_class = STRATEGIES[self.config["Strategy"]]
        strategies: dict[str, Strategy] = {
            definition.name: strategy_class(definition.space, None if seed is None else int(seed) + index)
            for index, definition in enumerate(self.definitions)
        }
        tried: dict[str, list[Values]] = {definition.name: [] for definition in self.definitions}
        observations: dict[str, list[tuple[Values, float]]] = {definition.name: [] for definition in self.definitions}
        maximum = limits.get("MaxNumberOfTrainingJobs") or _grid_size(self.definitions)
        parallel = max(1, min(int(limits["MaxParallelTrainingJobs"]), int(maximum)))
        runtime = limits.get("MaxRuntimeInSeconds")
        deadline = self.creation_time + timedelta(seconds=runtime) if runtime else None
        criteria = self.config.get("TuningJobCompletionCriteria") or {}
        exhausted: set[str] = set()
        started = 0
        with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix=f"trial-{self.name}") as pool:
            running: dict[Future[None], tuple[Trial, Values]] = {}
            while True:
                while (not self._stop.is_set() and started < maximum and len(running) < parallel
                       and len(exhausted) < len(self.definitions)):
                    definition = [d for d in self.definitions if d.name not in exhausted][started % (len(self.definitions) - len(exhausted))]
                    values = strategies[definition.name].propose(tried[definition.name], observations[definition.name])
                    if values is None:
                        exhausted.add(definition.name)
                        continue
                    tried[definition.name].append(values)
                    started += 1
                    trial, job = self._new_trial(context, definition, started, values)
                    running[pool.submit(_run_trial, job)] = (trial, values)
                if not running:
                    break
                done, _ = wait(list(running), timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
                for future in done:
                    trial, values = running.pop(future)
                    with self._lock:
                        self._live.pop(trial.name, None)
                    value = _objective(context.jobs.get(TRAINING.key, trial.name), trial.metric)
                    if value is not None:
                        sign = 1.0 if trial.objective_type == "Maximize" else -1.0
                        observations[trial.definition].append((values, sign * value))
                    self._touch()
                if deadline and now() >= deadline and not self._stop.is_set():
                    self._timed_out = True  # MaxRuntimeInSeconds: the running trials are stopped
                    self.shutdown()
                if not self._stop.is_set() and _criteria_met(criteria, self.training_job_summaries(context.jobs)):
                    self._stop.set()  # the completion criteria: no new trial, the running ones finish

    def _new_trial(self, context: JobContext, definition: TrainingDefinition, index: int,
                   values: Values) -> tuple[Trial, JobRun]:
        name = f"{self.name}-{index:03d}-{secrets.token_hex(4)}"
        tuned = {parameter.name: parameter.format(values[parameter.name]) for parameter in definition.space}
        spec = definition.definition
        hyperparameters = {**definition.static, **tuned}
        if builtin_algorithm((spec.get("AlgorithmSpecification") or {}).get("TrainingImage") or ""):
            hyperparameters["_tuning_objective_metric"] = definition.objective["MetricName"]  # as AWS passes it
        request = {key: spec[key] for key in REQUEST_FIELDS if key in spec}
        request["HyperParameters"] = hyperparameters
        request.setdefault("ResourceConfig", _resources(spec))
        fields = {**training_request(request), "TuningJobArn": self.arn}
        trial = Trial(name, definition.name, tuned, definition.objective["MetricName"], definition.objective["Type"])
        job = JobRun(TRAINING, name, fields, context)
        job.create()
        with self._lock:
            self.trials.append(trial)
            self._live[name] = job
        if self._stop.is_set():
            job.stop()
        self._touch()
        return trial, job

    def _finish(self, jobs: JobStore) -> None:
        summaries = self.training_job_summaries(jobs)
        with self._lock:
            if self.status == "Stopping" or (self._stop.is_set() and not self._timed_out and not summaries):
                self._set_status("Stopped")
                return
            if best_summary(summaries):
                self._set_status("Completed")
                return
            metric = ", ".join(sorted({trial.metric for trial in self.trials})) or "the objective"
            failed = [s for s in summaries if s["TrainingJobStatus"] == "Failed"]
            if summaries and len(failed) == len(summaries):
                reason = (f"All training jobs failed. Please take a look at the training job failures to get more "
                          f"details. First: {failed[0]['TrainingJobName']}: {failed[0].get('FailureReason', '')}")
            else:
                reason = (f"No training job reported the objective metric [{metric}] in its FinalMetricDataList "
                          "(a built-in algorithm reports a channel's metric only when the job has that channel, e.g. "
                          "'validation' for validation:auc; a MetricDefinitions Regex must match a line of the log)")
            self.failure_reason = reason[:FAILURE_REASON_LIMIT]
            self._set_status("Failed")

    def _set_status(self, status: str) -> None:
        with self._lock:
            if self.status in TERMINAL_TUNING_STATUSES:
                return
            self.status = status
            if status in TERMINAL_TUNING_STATUSES:
                self.end_time = now()
        self._touch()

    def _touch(self) -> None:
        with self._lock:
            self.last_modified_time = now()
        self._on_change()


def _run_trial(job: JobRun) -> None:
    with contextlib.suppress(StepFailure, StepStopped):  # the training job's record says how it ended
        run_training_job(job)


def _resources(spec: dict[str, Any]) -> dict[str, Any]:
    """ResourceConfig, or the first instance of HyperParameterTuningResourceConfig (one instance runs here)."""
    tuning = spec.get("HyperParameterTuningResourceConfig") or {}
    configs = tuning.get("InstanceConfigs") or []
    if configs:
        return {"InstanceType": configs[0].get("InstanceType"), "InstanceCount": 1,
                "VolumeSizeInGB": configs[0].get("VolumeSizeInGB", 30)}
    if tuning.get("InstanceType"):
        return {"InstanceType": tuning["InstanceType"], "InstanceCount": 1, "VolumeSizeInGB": tuning.get("VolumeSizeInGB", 30)}
    return dict(DEFAULT_RESOURCES)


def _grid_size(definitions: list[TrainingDefinition]) -> int:
    total = 0
    for definition in definitions:
        size = 1
        for parameter in definition.space:
            size *= parameter.combinations() or 1
        total += size
    return total


def _objective(record: dict[str, Any] | None, metric: str) -> float | None:
    if not record or record.get("TrainingJobStatus") != "Completed":
        return None
    for item in record.get("FinalMetricDataList") or []:
        if item.get("MetricName") == metric:
            return float(item["Value"])
    return None


def _trial_summary(trial: Trial, record: dict[str, Any] | None, tuning_name: str, several: bool) -> dict[str, Any]:
    record = record or {}
    status = record.get("TrainingJobStatus", "InProgress")
    summary: dict[str, Any] = {
        "TrainingJobName": trial.name,
        "TrainingJobArn": record.get("TrainingJobArn"),
        "TuningJobName": tuning_name,
        "CreationTime": record.get("CreationTime"),
        "TrainingJobStatus": status,
        "TunedHyperParameters": dict(trial.tuned),
    }
    if several:
        summary["TrainingJobDefinitionName"] = trial.definition
    for field in ("TrainingStartTime", "TrainingEndTime", "FailureReason"):
        if record.get(field) is not None:
            summary[field] = record[field]
    value = _objective(record, trial.metric)
    if value is not None:
        summary["FinalHyperParameterTuningJobObjectiveMetric"] = {
            "Type": trial.objective_type, "MetricName": trial.metric, "Value": value}
        summary["ObjectiveStatus"] = "Succeeded"
    else:
        summary["ObjectiveStatus"] = "Pending" if status in ("InProgress", "Stopping") else "Failed"
    return summary


def best_summary(summaries: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The trial with the best objective (highest for Maximize, lowest for Minimize); None before any."""
    ranked = rank(summaries)
    return ranked[0] if ranked else None


def rank(summaries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The trials that reported the objective, best first."""
    scored = [s for s in summaries if s.get("ObjectiveStatus") == "Succeeded"]

    def score(summary: dict[str, Any]) -> float:
        metric = summary["FinalHyperParameterTuningJobObjectiveMetric"]
        return metric["Value"] if metric.get("Type") == "Maximize" else -metric["Value"]

    return sorted(scored, key=score, reverse=True)


def _training_counters(summaries: list[dict[str, Any]]) -> dict[str, int]:
    statuses = [s["TrainingJobStatus"] for s in summaries]
    return {
        "Completed": statuses.count("Completed"),
        "InProgress": statuses.count("InProgress") + statuses.count("Stopping"),
        "RetryableError": 0,  # the endpoint's failures are the job's own: none is retried
        "NonRetryableError": statuses.count("Failed"),
        "Stopped": statuses.count("Stopped"),
    }


def _objective_counters(summaries: list[dict[str, Any]]) -> dict[str, int]:
    statuses = [s["ObjectiveStatus"] for s in summaries]
    return {name: statuses.count(name) for name in ("Succeeded", "Pending", "Failed")}


def _criteria_met(criteria: dict[str, Any], summaries: list[dict[str, Any]]) -> bool:
    """TuningJobCompletionCriteria: the target reached, or too many trials in a row without improving."""
    best = best_summary(summaries)
    target = criteria.get("TargetObjectiveMetricValue")
    if best and target is not None:
        metric = best["FinalHyperParameterTuningJobObjectiveMetric"]
        if (metric["Value"] >= float(target)) if metric.get("Type") == "Maximize" else (metric["Value"] <= float(target)):
            return True
    patience = (criteria.get("BestObjectiveNotImproving") or {}).get("MaxNumberOfTrainingJobsNotImproving")
    if not patience:
        return False
    ended = sorted((s for s in summaries if s.get("ObjectiveStatus") == "Succeeded"), key=lambda s: s["TrainingEndTime"])
    best_value, since = None, 0
    for summary in ended:
        metric = summary["FinalHyperParameterTuningJobObjectiveMetric"]
        value = metric["Value"] if metric.get("Type") == "Maximize" else -metric["Value"]
        if best_value is None or value > best_value:
            best_value, since = value, 0
        else:
            since += 1
    return since >= int(patience)
