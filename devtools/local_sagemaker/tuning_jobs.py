"""The hyperparameter tuning job APIs, run for real (engine/tuning/).

moto records a created tuning job and runs nothing; here CreateHyperParameterTuningJob checks the
request as AWS does and starts a tuning job whose trials are real training jobs of the engine
(DescribeTrainingJob, StopTrainingJob and ListTrainingJobs show them too, with TuningJobArn).
Describe, List, Stop, ListTrainingJobsForHyperParameterTuningJob and Delete read and drive the
same records, which a restart keeps (a job that was running comes back Failed, as executions do).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from moto.sagemaker.exceptions import ResourceInUseException, ResourceNotFound, ValidationError

from .engine.errors import RequestError
from .engine.jobs.lifecycle import JobContext
from .engine.tuning.run import TERMINAL_TUNING_STATUSES, TuningJobRun, rank
from .engine.tuning.tuning_checks import check_tuning_request
from .pagination import paginate


class TuningJobs:
    """Mixin of LocalSageMakerBackend: the tuning job APIs, on `self.tuning_jobs` (lower-cased name -> run)."""

    tuning_jobs: dict[str, TuningJobRun]

    def job_context(self) -> JobContext:  # provided by the backend
        raise NotImplementedError

    def _tuning_changed(self) -> None:  # provided by the backend: a change to save
        raise NotImplementedError

    def create_local_tuning_job(self, request: dict[str, Any]) -> tuple[dict[str, str], threading.Event]:
        """Create the job; its search starts once the returned event is set (after the response)."""
        if request.get("WarmStartConfig"):
            raise NotImplementedError("CreateHyperParameterTuningJob WarmStartConfig: the local endpoint starts "
                                      "every tuning job cold")
        if request.get("Autotune"):
            raise NotImplementedError("CreateHyperParameterTuningJob Autotune: the local endpoint tunes the "
                                      "ParameterRanges given")
        try:
            definitions = check_tuning_request(request)
        except RequestError as error:
            raise ValidationError(str(error)) from None
        name = request["HyperParameterTuningJobName"]
        context = self.job_context()
        arn = context.arn("hyper-parameter-tuning-job", name)
        with self._tuning_lock:
            if name.lower() in self.tuning_jobs:
                raise ResourceInUseException(f"Hyperparameter tuning job {name} already exists ({arn})")
            run = TuningJobRun(name, arn, request, definitions, self._tuning_changed)
            self.tuning_jobs[name.lower()] = run
        run.start(context)
        return {"HyperParameterTuningJobArn": arn}, run.released

    @property
    def _tuning_lock(self) -> threading.Lock:
        return self._start_lock  # type: ignore[attr-defined]  # the backend's lock of creations

    def tuning_job(self, name: str) -> TuningJobRun:
        run = self.tuning_jobs.get(str(name).lower())
        if run is None:
            raise ResourceNotFound(f"Amazon SageMaker can't find a tuning job with name {name}")
        return run

    def describe_tuning_job(self, name: str) -> dict[str, Any]:
        return self.tuning_job(name).describe(self.job_context().jobs)

    def stop_tuning_job(self, name: str) -> None:
        run = self.tuning_job(name)
        if run.status != "InProgress":
            raise ValidationError(
                f"The request was rejected because the hyperparameter tuning job {name} is in status {run.status}: "
                "only an InProgress tuning job can be stopped"
            )
        run.stop()

    def delete_tuning_job(self, name: str) -> None:
        run = self.tuning_job(name)
        if run.status not in TERMINAL_TUNING_STATUSES:
            raise ValidationError(f"Hyperparameter tuning job {name} is {run.status}: stop it before deleting it")
        del self.tuning_jobs[name.lower()]

    def list_tuning_jobs(self, options: dict[str, Any]) -> dict[str, Any]:
        jobs = self.job_context().jobs
        contains = (options.get("NameContains") or "").lower()
        status = options.get("StatusEquals")
        items = [run.summary(jobs) for run in list(self.tuning_jobs.values())]
        items = [item for item in items
                 if contains in item["HyperParameterTuningJobName"].lower()
                 and (not status or item["HyperParameterTuningJobStatus"] == status)
                 and _within(item, options)]
        key: Callable[[dict[str, Any]], Any] = {
            "Name": lambda item: item["HyperParameterTuningJobName"],
            "Status": lambda item: item["HyperParameterTuningJobStatus"],
        }.get(options.get("SortBy") or "CreationTime", lambda item: item["CreationTime"])
        items.sort(key=key, reverse=(options.get("SortOrder") or "Descending") == "Descending")
        page, token = paginate(items, options.get("MaxResults"), options.get("NextToken"))
        return {"HyperParameterTuningJobSummaries": page, **({"NextToken": token} if token else {})}

    def list_training_jobs_for_tuning_job(self, name: str, options: dict[str, Any]) -> dict[str, Any]:
        summaries = self.tuning_job(name).training_job_summaries(self.job_context().jobs)
        status = options.get("StatusEquals")
        if status:
            summaries = [s for s in summaries if s["TrainingJobStatus"] == status]
        sort_by = options.get("SortBy") or "Name"
        descending = (options.get("SortOrder") or "Descending") == "Descending"
        if sort_by == "FinalObjectiveMetricValue":
            # Only the trials with an objective, best first when Descending (what a TuningStep's top-k reads).
            summaries = rank(summaries)
            if not descending:
                summaries.reverse()
        else:
            key: Callable[[dict[str, Any]], Any] = {
                "CreationTime": lambda s: s["CreationTime"],
                "Status": lambda s: s["TrainingJobStatus"],
            }.get(sort_by, lambda s: s["TrainingJobName"])
            summaries.sort(key=key, reverse=descending)
        page, token = paginate(summaries, options.get("MaxResults"), options.get("NextToken"))
        return {"TrainingJobSummaries": page, **({"NextToken": token} if token else {})}

    def stop_all_tuning_jobs(self, timeout: float) -> None:
        """The endpoint stops: no new trial starts; the trials end with the other jobs."""
        runs = list(self.tuning_jobs.values())
        for run in runs:
            run.shutdown()
        for run in runs:
            run.wait(timeout)


def _within(item: dict[str, Any], options: dict[str, Any]) -> bool:
    created, modified = item["CreationTime"], item["LastModifiedTime"]
    bounds = [(options.get("CreationTimeAfter"), lambda b: created > b), (options.get("CreationTimeBefore"), lambda b: created < b),
              (options.get("LastModifiedTimeAfter"), lambda b: modified > b),
              (options.get("LastModifiedTimeBefore"), lambda b: modified < b)]
    return all(bound is None or test(bound) for bound, test in bounds)
