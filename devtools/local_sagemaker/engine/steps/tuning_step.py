"""Tuning steps: CreateHyperParameterTuningJob on the endpoint itself, waited for like a job.

The step's arguments are the request without a name; the step names the tuning job as the
pipeline service does (`pipelines-<random>`, at most 32 characters) and creates it through the
endpoint's own API, so DescribeHyperParameterTuningJob and the trials' training jobs show it as
any other. Its properties are DescribeHyperParameterTuningJob's answer plus
`TrainingJobSummaries` from ListTrainingJobsForHyperParameterTuningJob, best objective first
(at most 50, as AWS keeps), which is what `TuningStep.get_top_model_s3_uri(top_k=...)` reads:
`Steps.<step>.TrainingJobSummaries[k].TrainingJobName`. A stop of the execution stops the
tuning job and waits for it to end.
"""

from __future__ import annotations

import contextlib
import secrets
import string
import time
from typing import Any

from botocore.exceptions import ClientError, ParamValidationError

from ..errors import StepFailure, StepStopped
from ..outcome import StepOutcome
from .step_runtime import StepRuntime

POLL_SECONDS = 0.5
TOP_TRAINING_JOBS = 50
_TERMINAL = ("Completed", "Failed", "Stopped")


def tuning_job_name() -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "pipelines-" + "".join(secrets.choice(alphabet) for _ in range(16))


def run_tuning_step(runtime: StepRuntime) -> StepOutcome:
    sagemaker = runtime.context.clients.sagemaker
    name = tuning_job_name()
    try:
        arn = sagemaker.create_hyper_parameter_tuning_job(**{**runtime.arguments(), "HyperParameterTuningJobName": name})[
            "HyperParameterTuningJobArn"]
    except ClientError as error:
        raise StepFailure(f"{error.response['Error'].get('Code')}: {error.response['Error'].get('Message')}") from None
    except ParamValidationError as error:
        raise StepFailure(f"ValidationException: {error}") from None
    runtime.report_metadata({"TuningJob": {"Arn": arn}})
    stopping = False
    while True:
        description = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
        status = description["HyperParameterTuningJobStatus"]
        if status in _TERMINAL:
            break
        if runtime.stop_requested.is_set() and not stopping:
            stopping = True
            with contextlib.suppress(ClientError):  # it ended meanwhile: the next describe says how
                sagemaker.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
        time.sleep(POLL_SECONDS)
    if status == "Stopped":
        raise StepStopped(f"Tuning job {name} was stopped")
    if status == "Failed":
        raise StepFailure(description.get("FailureReason") or f"Tuning job {name} failed")
    description.pop("ResponseMetadata", None)
    return StepOutcome({**description, "TrainingJobSummaries": _top_training_jobs(sagemaker, name)},
                       {"TuningJob": {"Arn": arn}})


def _top_training_jobs(sagemaker: Any, name: str) -> list[dict[str, Any]]:
    listed = sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name, SortBy="FinalObjectiveMetricValue", SortOrder="Descending",
        MaxResults=TOP_TRAINING_JOBS)
    return listed["TrainingJobSummaries"]
