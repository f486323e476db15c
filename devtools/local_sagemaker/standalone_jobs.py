"""CreateProcessingJob, CreateTrainingJob and CreateTransformJob, executed for real.

moto marks a created job Completed at once and runs nothing: a silent false pass for every
user of the provider's SageMakerProcessingOperator, SageMakerTrainingOperator and
SageMakerTransformOperator. Here a created job runs through the engine's jobs (the same code as
a pipeline step's job) on its own thread, which starts once the Create call has answered; it
is InProgress until it ends Completed, Failed or Stopped. Describe*Job, List*Jobs and Stop*Job
read and drive the same records as the jobs pipeline steps create.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from moto.sagemaker.exceptions import ResourceInUseException, ValidationError

from .config import endpoint_config
from .engine.errors import RequestError, StepFailure, StepStopped
from .engine.jobs.kinds import JOB_KINDS, PROCESSING, TRAINING, TRANSFORM, JobKind
from .engine.jobs.lifecycle import TERMINAL_JOB_STATUSES, JobContext, JobRun
from .engine.jobs.processing import processing_request, run_processing_job
from .engine.jobs.request_checks import CHECKS, check_job_name
from .engine.jobs.training import run_training_job, training_request
from .engine.jobs.transform import run_transform_job, transform_request
from .pagination import paginate

RELEASE_TIMEOUT_SECONDS = 5.0


class StandaloneJobs:
    """Mixin of LocalSageMakerBackend: the job APIs, on the engine's JobStore."""

    def job_context(self) -> JobContext:  # provided by the backend
        raise NotImplementedError

    # --- create ---------------------------------------------------------------------------
    def create_local_processing_job(self, request: dict[str, Any]) -> tuple[dict[str, str], threading.Event]:
        _check("processing", request)
        return self._start_job(PROCESSING, request, processing_request(request), lambda job: run_processing_job(job))

    def create_local_training_job(self, request: dict[str, Any]) -> tuple[dict[str, str], threading.Event]:
        _check("training", request)
        return self._start_job(TRAINING, request, training_request(request), run_training_job)

    def create_local_transform_job(self, request: dict[str, Any]) -> tuple[dict[str, str], threading.Event]:
        _check("transform", request)
        self.describe_model(request["ModelName"])  # type: ignore[attr-defined]  # unknown model: ValidationException
        return self._start_job(TRANSFORM, request, transform_request(request), run_transform_job)

    def _start_job(self, kind: JobKind, request: dict[str, Any], fields: dict[str, Any],
                   run: Callable[[JobRun], Any]) -> tuple[dict[str, str], threading.Event]:
        """Create the job and its thread; the thread waits for the returned event (set after the response)."""
        name = request[kind.name_field]
        job = JobRun(kind, name, fields, self.job_context())
        if not job.create():
            raise ResourceInUseException(
                f"{kind.label} job names must be unique within an AWS account and region, and a "
                f"{kind.key} job with this name already exists ({job.arn})"
            )
        released = threading.Event()
        thread = threading.Thread(target=self._run_job, args=(job, run, released), name=f"job-{name}", daemon=True)
        thread.start()
        self.job_threads.append((thread, released))  # type: ignore[attr-defined]
        return {kind.arn_field: job.arn}, released

    @staticmethod
    def _run_job(job: JobRun, run: Callable[[JobRun], Any], released: threading.Event) -> None:
        released.wait(RELEASE_TIMEOUT_SECONDS)  # the job starts once Create*Job has answered
        if endpoint_config.step_startup_delay:
            job.stop_requested.wait(endpoint_config.step_startup_delay)
        with contextlib.suppress(StepFailure, StepStopped):  # the job's record says how it ended
            run(job)

    # --- describe, stop, list -----------------------------------------------------------
    def describe_job(self, kind_key: str, name: str) -> dict[str, Any]:
        kind = JOB_KINDS[kind_key]
        record = self.job_context().jobs.get(kind.key, name)
        if record is None:
            _check_name(name, f"{kind.key}JobName")
            message = (
                "Requested resource not found." if kind is TRAINING
                else f"Could not find requested job with name {name}"
            )
            raise ValidationError(message)
        return record

    def stop_job(self, kind_key: str, name: str) -> None:
        kind = JOB_KINDS[kind_key]
        record = self.describe_job(kind_key, name)
        status = record[kind.status_field]
        job = self.job_context().jobs.live(kind.key, name)
        if status in TERMINAL_JOB_STATUSES or status == "Stopping" or job is None:
            raise ValidationError(
                f"The request was rejected because the {kind.key} job is in status {status}: "
                "only an InProgress job can be stopped"
            )
        job.stop()

    def list_jobs(self, kind_key: str, options: dict[str, Any]) -> dict[str, Any]:
        kind = JOB_KINDS[kind_key]
        records = self.job_context().jobs.all(kind.key)
        name_contains = (options.get("NameContains") or "").lower()
        status = options.get("StatusEquals")
        bounds = {field: options.get(field) for field in ("CreationTimeAfter", "CreationTimeBefore",
                                                          "LastModifiedTimeAfter", "LastModifiedTimeBefore")}
        selected = [
            record for record in records
            if name_contains in record[kind.name_field].lower()
            and (not status or record[kind.status_field] == status)
            and _within(record, bounds)
        ]
        sort_by = options.get("SortBy") or "CreationTime"
        key: Callable[[dict[str, Any]], Any] = {
            "Name": lambda record: record[kind.name_field],
            "Status": lambda record: record[kind.status_field],
        }.get(sort_by, lambda record: record["CreationTime"])
        selected.sort(key=key, reverse=(options.get("SortOrder") or "Descending") == "Descending")
        page, token = paginate(selected, options.get("MaxResults"), options.get("NextToken"))
        summaries = [_summary(kind, record) for record in page]
        return {f"{kind.label}JobSummaries": summaries, **({"NextToken": token} if token else {})}

    def stop_all_jobs(self, timeout: float) -> None:
        for job in self.job_context().jobs.running():
            job.stop()
        for thread, released in list(self.job_threads):  # type: ignore[attr-defined]
            released.set()
            thread.join(timeout)


def _check(kind_key: str, request: dict[str, Any]) -> None:
    try:
        CHECKS[kind_key](request)
    except RequestError as error:
        raise ValidationError(str(error)) from None


def _check_name(name: str, attribute: str) -> None:
    try:
        check_job_name(name, attribute)
    except RequestError as error:
        raise ValidationError(str(error)) from None


def _within(record: dict[str, Any], bounds: dict[str, datetime | None]) -> bool:
    created, modified = record["CreationTime"], record["LastModifiedTime"]
    return (
        (not bounds["CreationTimeAfter"] or created > bounds["CreationTimeAfter"])
        and (not bounds["CreationTimeBefore"] or created < bounds["CreationTimeBefore"])
        and (not bounds["LastModifiedTimeAfter"] or modified > bounds["LastModifiedTimeAfter"])
        and (not bounds["LastModifiedTimeBefore"] or modified < bounds["LastModifiedTimeBefore"])
    )


def _summary(kind: JobKind, record: dict[str, Any]) -> dict[str, Any]:
    fields = (kind.name_field, kind.arn_field, "CreationTime", kind.end_field, "LastModifiedTime",
              kind.status_field, "FailureReason", "SecondaryStatus")
    return {field: record[field] for field in fields if field in record}
