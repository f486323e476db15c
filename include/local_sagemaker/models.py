"""moto's SageMaker backend plus a pipeline execution engine.

moto serves the pipeline CRUD and the registry; this subclass validates definitions on
CreatePipeline/UpdatePipeline, runs executions for real (engine/), and adds the actions
moto lacks: ListPipelineExecutionSteps, StopPipelineExecution, RetryPipelineExecution.
Install it with `install()` before the server or mock starts.
"""

from __future__ import annotations

import importlib
import re
import threading
from typing import Any

from moto.sagemaker import models as moto_models
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import FakePipeline, SageMakerModelBackend
from moto.sagemaker.utils import get_pipeline_execution_from_arn, get_pipeline_from_name

from .config import endpoint_config
from .engine.aws import EndpointClients
from .engine.definition import parse_definition
from .engine.errors import DefinitionError
from .engine.execution import DEFAULT_MAX_PARALLEL_STEPS, TERMINAL_STATUSES, ExecutionSettings, PipelineExecutionRun
from .engine.parameters import ParameterError, resolve_parameters
from .engine.step_cache import StepCache
from .engine.steps.runtime import JobStore
from .pagination import paginate
from .registry import ModelRegistryUpdates

DISPLAY_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,81}$")
TOKEN_LENGTH = (32, 128)


class LocalSageMakerBackend(ModelRegistryUpdates, SageMakerModelBackend):
    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.runs: dict[str, PipelineExecutionRun] = {}
        self.jobs = JobStore()
        self.step_cache = StepCache()
        self.request_tokens: dict[tuple[str, str], str] = {}
        self._start_lock = threading.Lock()

    @property
    def _url_module(self) -> Any:
        return importlib.import_module(f"{__package__}.urls")

    # --- definitions are validated as SageMaker validates them -----------------------
    def create_pipeline(self, pipeline_name: str, *args: Any, **kwargs: Any) -> FakePipeline:
        pipeline = super().create_pipeline(pipeline_name, *args, **kwargs)
        try:
            parse_definition(pipeline.pipeline_definition)
        except DefinitionError as error:
            del self.pipelines[pipeline_name]
            raise ValidationError(str(error)) from None
        return pipeline

    def update_pipeline(self, pipeline_name: str, **kwargs: Any) -> str:
        pipeline = get_pipeline_from_name(self.pipelines, pipeline_name)
        before = dict(vars(pipeline))
        arn = super().update_pipeline(pipeline_name, **kwargs)
        try:
            parse_definition(pipeline.pipeline_definition)
        except DefinitionError as error:
            vars(pipeline).update(before)  # nothing is overwritten by a refused update
            raise ValidationError(str(error)) from None
        return arn

    # --- executions ------------------------------------------------------------------
    def start_pipeline_execution(
        self,
        pipeline_name: str,
        pipeline_execution_display_name: str,
        pipeline_parameters: list[dict[str, Any]],
        pipeline_execution_description: str,
        parallelism_configuration: dict[str, int],
        client_request_token: str,
    ) -> dict[str, str]:
        pipeline = get_pipeline_from_name(self.pipelines, pipeline_name)
        _validate_token(client_request_token)
        if pipeline_execution_display_name and not DISPLAY_NAME.match(pipeline_execution_display_name):
            raise ValidationError(
                f"PipelineExecutionDisplayName '{pipeline_execution_display_name}' is invalid: use "
                "letters, digits and single hyphens, starting with a letter or digit, at most 82 characters"
            )
        with self._start_lock:
            if client_request_token and (pipeline.pipeline_name, client_request_token) in self.request_tokens:
                return {"PipelineExecutionArn": self.request_tokens[(pipeline.pipeline_name, client_request_token)]}
            definition = parse_definition(pipeline.pipeline_definition)
            try:
                parameters = resolve_parameters(definition.parameters, pipeline_parameters)
            except ParameterError as error:
                raise ValidationError(str(error)) from None
            response = super().start_pipeline_execution(
                pipeline.pipeline_name, pipeline_execution_display_name, pipeline_parameters,
                pipeline_execution_description, parallelism_configuration, client_request_token,
            )
            arn = response["PipelineExecutionArn"]
            fake = pipeline.pipeline_executions[arn]
            fake.pipeline_execution_display_name = pipeline_execution_display_name or arn.rsplit("/", 1)[-1]
            parallelism = (parallelism_configuration or pipeline.parallelism_configuration or {})
            settings = ExecutionSettings(
                arn=arn,
                execution_id=arn.rsplit("/", 1)[-1],
                pipeline_name=pipeline.pipeline_name,
                pipeline_arn=pipeline.arn,
                account_id=self.account_id,
                region=self.region_name,
                parameters=parameters,
                max_parallel_steps=int(parallelism.get("MaxParallelExecutionSteps") or DEFAULT_MAX_PARALLEL_STEPS),
                work_dir=_work_dir(),
            )
            run = PipelineExecutionRun(
                settings, definition, EndpointClients(_endpoint_url(), self.region_name),
                self.jobs, self.step_cache, on_status=_status_sync(fake),
            )
            self.runs[arn] = run
            if client_request_token:
                self.request_tokens[(pipeline.pipeline_name, client_request_token)] = arn
            run.start()
        return response

    def _run(self, pipeline_execution_arn: str) -> PipelineExecutionRun:
        get_pipeline_execution_from_arn(self.pipelines, pipeline_execution_arn)  # ValidationError if unknown
        return self.runs[pipeline_execution_arn]

    def describe_pipeline_execution(self, pipeline_execution_arn: str) -> dict[str, Any]:
        response = super().describe_pipeline_execution(pipeline_execution_arn)
        run = self._run(pipeline_execution_arn)
        response["PipelineExecutionStatus"] = run.status
        response.pop("FailureReason", None)
        if run.failure_reason:
            response["FailureReason"] = run.failure_reason
        return response

    def list_pipeline_executions(self, pipeline_name: str, **options: Any) -> dict[str, Any]:
        pipeline = get_pipeline_from_name(self.pipelines, pipeline_name)
        summaries = []
        for arn, execution in pipeline.pipeline_executions.items():
            summary = {
                "PipelineExecutionArn": arn,
                "StartTime": execution.start_time,
                "PipelineExecutionStatus": execution.pipeline_execution_status,
                "PipelineExecutionDisplayName": execution.pipeline_execution_display_name,
            }
            if execution.pipeline_execution_description:
                summary["PipelineExecutionDescription"] = execution.pipeline_execution_description
            if execution.pipeline_execution_failure_reason:
                summary["PipelineExecutionFailureReason"] = execution.pipeline_execution_failure_reason
            summaries.append(summary)
        after, before = options.get("created_after"), options.get("created_before")
        summaries = [s for s in summaries if (not after or s["StartTime"] > after) and (not before or s["StartTime"] < before)]
        summaries.sort(key=lambda s: s["StartTime"], reverse=options.get("sort_order", "Descending") != "Ascending")
        page, next_token = paginate(summaries, options.get("max_results"), options.get("next_token"))
        return {"PipelineExecutionSummaries": page, **({"NextToken": next_token} if next_token else {})}

    def list_pipeline_execution_steps(
        self, pipeline_execution_arn: str, max_results: int | None, next_token: str | None, sort_order: str | None
    ) -> dict[str, Any]:
        steps = self._run(pipeline_execution_arn).list_steps()
        if sort_order == "Ascending":
            steps.reverse()
        page, next_token = paginate(steps, max_results, next_token)
        return {"PipelineExecutionSteps": page, **({"NextToken": next_token} if next_token else {})}

    def stop_pipeline_execution(self, pipeline_execution_arn: str) -> dict[str, str]:
        run = self._run(pipeline_execution_arn)
        if run.status in ("Succeeded", "Failed"):
            raise ValidationError(
                f"Pipeline execution {pipeline_execution_arn} is {run.status} and cannot be stopped"
            )
        run.stop()
        return {"PipelineExecutionArn": pipeline_execution_arn}

    def retry_pipeline_execution(self, pipeline_execution_arn: str, parallelism_configuration: dict[str, int] | None) -> dict[str, str]:
        run = self._run(pipeline_execution_arn)
        if run.status not in ("Failed", "Stopped"):
            raise ValidationError(
                f"Pipeline execution {pipeline_execution_arn} is {run.status}; only a Failed or "
                "Stopped execution can be retried"
            )
        if parallelism_configuration and parallelism_configuration.get("MaxParallelExecutionSteps"):
            run.settings.max_parallel_steps = int(parallelism_configuration["MaxParallelExecutionSteps"])
        run.retry()
        return {"PipelineExecutionArn": pipeline_execution_arn}

    # --- the jobs the engine ran ------------------------------------------------------
    def describe_processing_job(self, processing_job_name: str) -> dict[str, Any]:
        return self.jobs.get("processing", processing_job_name) or super().describe_processing_job(processing_job_name)

    def describe_training_job(self, training_job_name: str) -> dict[str, Any]:
        return self.jobs.get("training", training_job_name) or super().describe_training_job(training_job_name)

    def stop_all_executions(self, timeout: float) -> None:
        for run in list(self.runs.values()):
            if run.status not in TERMINAL_STATUSES:
                run.stop()
        for run in list(self.runs.values()):
            run.wait(timeout)


def _validate_token(token: str | None) -> None:
    if token is not None and not TOKEN_LENGTH[0] <= len(token) <= TOKEN_LENGTH[1]:
        raise ValidationError(
            f"ClientRequestToken must be {TOKEN_LENGTH[0]} to {TOKEN_LENGTH[1]} characters long; got {len(token)}"
        )


def _status_sync(fake: Any) -> Any:
    """Keep moto's execution object (used by its other read APIs) in step with the engine."""

    def sync(status: str, reason: str | None) -> None:
        fake.pipeline_execution_status = status
        fake.pipeline_execution_failure_reason = reason
        fake.last_modified_time = moto_models.utcnow()

    return sync


def _endpoint_url() -> str:
    if not endpoint_config.endpoint_url:
        raise ValidationError("The local SageMaker engine is not configured: start it with include.local_sagemaker")
    return endpoint_config.endpoint_url


def _work_dir() -> Any:
    if endpoint_config.work_dir is None:
        raise ValidationError("The local SageMaker engine has no work directory configured")
    return endpoint_config.work_dir


def install() -> None:
    """Make moto build SageMaker backends from this class (in-process mocks and the server)."""
    backends = moto_models.sagemaker_backends
    if backends.backend is not LocalSageMakerBackend:
        backends.backend = LocalSageMakerBackend
        backends.clear()  # regions already built from moto's class are rebuilt from ours


def installed_backends() -> list[LocalSageMakerBackend]:
    return [
        backend
        for _, _, backend in moto_models.sagemaker_backends.iter_backends()
        if isinstance(backend, LocalSageMakerBackend)
    ]
