"""moto's SageMaker backend plus a pipeline execution engine and real jobs.

moto serves the pipeline CRUD and the registry; this subclass validates definitions on
CreatePipeline/UpdatePipeline, runs executions for real (engine/), adds the actions moto lacks
(ListPipelineExecutionSteps, StopPipelineExecution, RetryPipelineExecution,
DeleteModelPackage, DeleteModelPackageGroup) and answers as AWS does where moto does not (a running execution's
status in ListPipelineExecutions, DeletePipeline while one runs, a stop of an execution that is
not Executing). Standalone jobs (standalone_jobs.py) and experiments (experiments.py) are
mixins of their own, and so are models, endpoint configs and endpoints served by real model
servers (hosting.py). Install it with `install()` before the server or mock starts.

The backend pickles (persistence/): moto's records as they are, executions and jobs as data;
restored, what was running when the endpoint ended is Failed "endpoint restarted"
(engine/interruption.py) and can be retried.
"""

from __future__ import annotations

import importlib
import re
import threading
from typing import Any

from moto.sagemaker import models as moto_models
from moto.sagemaker.exceptions import ConflictException, ResourceNotFound, ValidationError
from moto.sagemaker.models import FakePipeline, SageMakerModelBackend

from .callbacks import CallbackSteps
from .config import endpoint_config
from .engine.aws import EndpointClients
from .engine.definition_parser import parse_definition
from .engine.errors import DefinitionError, StepFailure
from .engine.execution import DEFAULT_MAX_PARALLEL_STEPS, TERMINAL_STATUSES, ExecutionSettings, PipelineExecutionRun
from .engine.interruption import RESTART_REASON
from .engine.job_store import JobStore
from .engine.jobs.lifecycle import JobContext, fail_interrupted_jobs
from .engine.parameters import ParameterError, resolve_parameters
from .engine.step_cache import StepCache
from .experiments import Experiments
from .hosting import Hosting
from .model_package_updates import ModelRegistryUpdates
from .pagination import paginate
from .persistence.changes import state_changes
from .standalone_jobs import StandaloneJobs
from .tuning_jobs import TuningJobs

DISPLAY_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,81}$")
TOKEN_LENGTH = (32, 128)


class LocalSageMakerBackend(
    StandaloneJobs, TuningJobs, Experiments, ModelRegistryUpdates, CallbackSteps, Hosting, SageMakerModelBackend
):
    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.runs: dict[str, PipelineExecutionRun] = {}
        self.jobs = JobStore(listener=self._job_changed, on_change=_sagemaker_changed)
        self.tuning_jobs = {}
        self.job_threads: list[tuple[threading.Thread, threading.Event]] = []
        self.step_cache = StepCache()
        self.request_tokens: dict[tuple[str, str], str] = {}
        self._start_lock = threading.Lock()
        self._context: JobContext | None = None
        self.fleets = {}

    def __getstate__(self) -> dict[str, Any]:
        """What a restart keeps: moto's records, executions and jobs as data; no threads, locks or clients."""
        state = dict(self.__dict__)
        state["runs"] = {arn: run.saved() for arn, run in self.runs.items()}
        for local in ("job_threads", "_start_lock", "_context", "fleets"):
            state.pop(local)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        saved_runs = state.pop("runs")
        self.__dict__.update(state)
        self.job_threads, self._start_lock, self._context, self.fleets = [], threading.Lock(), None, {}
        self.jobs.listen(self._job_changed, _sagemaker_changed)
        fail_interrupted_jobs(self.jobs, RESTART_REASON)
        self.__dict__.setdefault("tuning_jobs", {})  # a state saved before tuning jobs ran
        for tuning in self.tuning_jobs.values():  # restored Failed "endpoint restarted" if it was running
            tuning.listen(_sagemaker_changed)
        self.runs = {}
        for arn, saved in saved_runs.items():
            fake = next((p.pipeline_executions[arn] for p in self.pipelines.values() if arn in p.pipeline_executions), None)
            if fake is None:
                continue
            self.runs[arn] = PipelineExecutionRun.restored(
                saved, parse_definition(fake.pipeline_definition_for_execution),
                {"work_dir": _work_dir(), "step_startup_delay": endpoint_config.step_startup_delay},
                context=self.job_context, cache=self.step_cache, on_status=_status_sync(fake),
                on_experiment=self._join_experiment, on_change=_sagemaker_changed,
            )

    @property
    def _url_module(self) -> Any:
        return importlib.import_module(f"{__package__}.urls")

    def job_context(self) -> JobContext:
        if self._context is None:
            self._context = JobContext(EndpointClients(_endpoint_url(), self.region_name), _work_dir(),
                                       self.account_id, self.region_name, self.jobs)
        return self._context

    # --- an unknown pipeline or execution is ResourceNotFound, as the API reference has it ----
    def _pipeline(self, pipeline_name: str) -> FakePipeline:
        """By name or ARN, as the Pipeline APIs accept either."""
        if str(pipeline_name).startswith("arn:"):
            pipeline_name = next((p.pipeline_name for p in self.pipelines.values() if p.arn == pipeline_name), pipeline_name)
        if pipeline_name not in self.pipelines:
            arn = f"arn:aws:sagemaker:{self.region_name}:{self.account_id}:pipeline/{str(pipeline_name).lower()}"
            raise ResourceNotFound(f"Pipeline '{arn}' does not exist.")
        return self.pipelines[pipeline_name]

    def _run(self, pipeline_execution_arn: str) -> PipelineExecutionRun:
        run = self.runs.get(pipeline_execution_arn)
        if run is None:
            raise ResourceNotFound(f"Pipeline execution '{pipeline_execution_arn}' does not exist.")
        return run

    def describe_pipeline(self, pipeline_name: str) -> dict[str, Any]:
        return super().describe_pipeline(self._pipeline(pipeline_name).pipeline_name)

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
        pipeline = self._pipeline(pipeline_name)
        before = dict(vars(pipeline))
        arn = super().update_pipeline(pipeline.pipeline_name, **kwargs)
        try:
            parse_definition(pipeline.pipeline_definition)
        except DefinitionError as error:
            vars(pipeline).update(before)  # nothing is overwritten by a refused update
            raise ValidationError(str(error)) from None
        return arn

    def delete_pipeline(self, pipeline_name: str) -> str:
        """Refused while an execution runs, as AWS refuses it; its experiments and trials stay."""
        pipeline = self._pipeline(pipeline_name)
        running = [arn for arn in pipeline.pipeline_executions
                   if arn in self.runs and self.runs[arn].status not in TERMINAL_STATUSES]
        if running:
            raise ConflictException(
                f"Pipeline '{pipeline.arn}' has {len(running)} running execution(s) ({running[0]}): "
                "stop them with StopPipelineExecution before deleting the pipeline"
            )
        for arn in pipeline.pipeline_executions:
            self.runs.pop(arn, None)
        return super().delete_pipeline(pipeline.pipeline_name)

    # --- executions ------------------------------------------------------------------
    def start_pipeline_execution(
        self,
        pipeline_name: str,
        pipeline_execution_display_name: str,
        pipeline_parameters: list[dict[str, Any]],
        pipeline_execution_description: str,
        parallelism_configuration: dict[str, int],
        client_request_token: str,
        mlflow_experiment_name: str | None = None,
    ) -> dict[str, str]:
        """moto's signature, for in-process callers: the execution is released at once."""
        response, run = self.start_local_pipeline_execution(
            pipeline_name, pipeline_execution_display_name, pipeline_parameters, pipeline_execution_description,
            parallelism_configuration, client_request_token, mlflow_experiment_name,
        )
        run.release()
        return response

    def start_local_pipeline_execution(
        self,
        pipeline_name: str,
        pipeline_execution_display_name: str,
        pipeline_parameters: list[dict[str, Any]],
        pipeline_execution_description: str,
        parallelism_configuration: dict[str, int],
        client_request_token: str,
        mlflow_experiment_name: str | None = None,
    ) -> tuple[dict[str, str], PipelineExecutionRun]:
        """Start an execution; its steps begin once the caller calls `run.release()` (after its response)."""
        pipeline = self._pipeline(pipeline_name)
        _validate_token(client_request_token)
        if pipeline_execution_display_name and not DISPLAY_NAME.match(pipeline_execution_display_name):
            raise ValidationError(
                f"PipelineExecutionDisplayName '{pipeline_execution_display_name}' is invalid: use "
                "letters, digits and single hyphens, starting with a letter or digit, at most 82 characters"
            )
        with self._start_lock:
            if client_request_token and (pipeline.pipeline_name, client_request_token) in self.request_tokens:
                arn = self.request_tokens[(pipeline.pipeline_name, client_request_token)]
                return {"PipelineExecutionArn": arn}, self.runs[arn]
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
                step_startup_delay=endpoint_config.step_startup_delay,
                mlflow_experiment_name=mlflow_experiment_name or None,
            )
            run = PipelineExecutionRun(
                settings, definition, self.job_context, self.step_cache, on_status=_status_sync(fake),
                on_experiment=self._join_experiment, on_change=_sagemaker_changed,
            )
            self.runs[arn] = run
            if client_request_token:
                self.request_tokens[(pipeline.pipeline_name, client_request_token)] = arn
            run.start()
        return response, run

    def _join_experiment(self, experiment: str, trial: str) -> None:
        try:
            with state_changes.changing():  # the execution's thread adds to moto's dicts
                self.join_pipeline_experiment(experiment, trial)
        except Exception as error:
            raise StepFailure(f"PipelineExperimentConfig: cannot create experiment '{experiment}' / trial '{trial}': {error}") from None

    def _tuning_changed(self) -> None:
        _sagemaker_changed()

    def _job_changed(self, kind_key: str, record: dict[str, Any]) -> None:
        """A job was created or ended (often on its own thread): its trial component follows."""
        with state_changes.changing():
            self.record_job_trial_component(kind_key, record)

    def describe_pipeline_execution(self, pipeline_execution_arn: str) -> dict[str, Any]:
        run = self._run(pipeline_execution_arn)
        response = super().describe_pipeline_execution(pipeline_execution_arn)
        response["PipelineExecutionStatus"] = run.status
        response.pop("FailureReason", None)
        if run.failure_reason:
            response["FailureReason"] = run.failure_reason
        if run.experiment_config:
            response["PipelineExperimentConfig"] = dict(run.experiment_config)
        if run.mlflow_config:
            response["MLflowConfig"] = run.mlflow_config
        return response

    def describe_pipeline_definition_for_execution(self, pipeline_execution_arn: str) -> dict[str, Any]:
        self._run(pipeline_execution_arn)
        return super().describe_pipeline_definition_for_execution(pipeline_execution_arn)

    def list_pipeline_parameters_for_execution(self, pipeline_execution_arn: str) -> dict[str, Any]:
        self._run(pipeline_execution_arn)
        return super().list_pipeline_parameters_for_execution(pipeline_execution_arn)

    def list_pipeline_executions(self, pipeline_name: str, **options: Any) -> dict[str, Any]:
        pipeline = self._pipeline(pipeline_name)
        summaries = []
        for arn, execution in pipeline.pipeline_executions.items():
            run = self.runs.get(arn)
            # The engine's status, not moto's copy: a UI or a backfill check reads this listing.
            status = run.status if run else execution.pipeline_execution_status
            reason = run.failure_reason if run else execution.pipeline_execution_failure_reason
            summary = {
                "PipelineExecutionArn": arn,
                "StartTime": execution.start_time,
                "PipelineExecutionStatus": status,
                "PipelineExecutionDisplayName": execution.pipeline_execution_display_name,
            }
            if execution.pipeline_execution_description:
                summary["PipelineExecutionDescription"] = execution.pipeline_execution_description
            if reason:
                summary["PipelineExecutionFailureReason"] = reason
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
        with run._lock:
            status = run.status
            if status != "Executing":
                # The provider's stop_pipeline(fail_if_not_running=False) recognises this wording.
                raise ValidationError(
                    f"Pipeline execution {pipeline_execution_arn} is in {status} status. "
                    "Only pipelines with 'Executing' status can be stopped"
                )
            run.stop()
        return {"PipelineExecutionArn": pipeline_execution_arn}

    def retry_local_pipeline_execution(
        self, pipeline_execution_arn: str, parallelism_configuration: dict[str, int] | None
    ) -> tuple[dict[str, str], PipelineExecutionRun]:
        run = self._run(pipeline_execution_arn)
        if run.status not in ("Failed", "Stopped"):
            raise ValidationError(
                f"Pipeline execution {pipeline_execution_arn} is {run.status}; only a Failed or "
                "Stopped execution can be retried"
            )
        if parallelism_configuration and parallelism_configuration.get("MaxParallelExecutionSteps"):
            run.settings.max_parallel_steps = int(parallelism_configuration["MaxParallelExecutionSteps"])
        run.retry()
        return {"PipelineExecutionArn": pipeline_execution_arn}, run

    # --- the jobs the engine runs -------------------------------------------------------
    def describe_processing_job(self, processing_job_name: str) -> dict[str, Any]:
        return self.describe_job("processing", processing_job_name)

    def describe_training_job(self, training_job_name: str) -> dict[str, Any]:
        return self.describe_job("training", training_job_name)

    def describe_transform_job(self, transform_job_name: str) -> dict[str, Any]:
        return self.describe_job("transform", transform_job_name)

    # --- the registry -------------------------------------------------------------------
    def delete_model_package(self, model_package_name: str) -> None:
        package = self.describe_model_package(model_package_name)  # ValidationException when unknown
        del self.model_packages[package.arn]
        for key in [key for key, arn in self.model_package_name_mapping.items() if arn == package.arn]:
            del self.model_package_name_mapping[key]

    def delete_model_package_group(self, model_package_group_name: str) -> None:
        group = self.describe_model_package_group(model_package_group_name)  # ValidationException when unknown
        packages = [p for p in self.model_packages.values() if p.model_package_group_name == model_package_group_name]
        if packages:
            raise ConflictException(
                f"Model package group {group.arn} still has {len(packages)} model package(s): "
                "delete them (DeleteModelPackage) before the group"
            )
        del self.model_package_groups[model_package_group_name]

    def stop_all_executions(self, timeout: float) -> None:
        for run in list(self.runs.values()):
            run.release()
            if run.status not in TERMINAL_STATUSES:
                run.stop()
        for run in list(self.runs.values()):
            run.wait(timeout)
        self.stop_all_tuning_jobs(timeout)
        self.stop_all_jobs(timeout)
        self.stop_all_endpoints()

    def reset(self) -> None:
        """moto's control API reset (--enable-reset-api): the model servers end before their records go."""
        self.stop_all_endpoints()
        super().reset()


def _validate_token(token: str | None) -> None:
    if token is not None and not TOKEN_LENGTH[0] <= len(token) <= TOKEN_LENGTH[1]:
        raise ValidationError(
            f"ClientRequestToken must be {TOKEN_LENGTH[0]} to {TOKEN_LENGTH[1]} characters long; got {len(token)}"
        )


def _sagemaker_changed() -> None:
    state_changes.changed("sagemaker")


def _status_sync(fake: Any) -> Any:
    """Keep moto's execution object (used by its other read APIs) in step with the engine.

    Called under the execution's lock, so it must not wait for the StateLock (a snapshot holding
    it waits for that execution's lock): it only sets attributes moto's object already has.
    """

    def sync(status: str, reason: str | None) -> None:
        fake.pipeline_execution_status = status
        fake.pipeline_execution_failure_reason = reason
        fake.last_modified_time = moto_models.utcnow()

    return sync


def _endpoint_url() -> str:
    if not endpoint_config.endpoint_url:
        raise ValidationError("The local SageMaker engine is not configured: start it with devtools.local_sagemaker")
    return endpoint_config.endpoint_url


def _work_dir() -> Any:
    if endpoint_config.work_dir is None:
        raise ValidationError("The local SageMaker engine has no work directory configured")
    return endpoint_config.work_dir


def install() -> None:
    """Make moto build SageMaker (and IAM, SageMaker Runtime, S3) backends from this package's classes."""
    from .iam import install_iam
    from .invoke_endpoint import install_runtime
    from .s3 import install_s3

    backends = moto_models.sagemaker_backends
    if backends.backend is not LocalSageMakerBackend:
        backends.backend = LocalSageMakerBackend
        backends.clear()  # regions already built from moto's class are rebuilt from ours
    install_iam()
    install_runtime()
    install_s3()


def installed_backends() -> list[LocalSageMakerBackend]:
    return [
        backend
        for _, _, backend in moto_models.sagemaker_backends.iter_backends()
        if isinstance(backend, LocalSageMakerBackend)
    ]
