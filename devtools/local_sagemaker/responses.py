"""The SageMaker API actions moto lacks or answers differently, on top of its responses.

Work a call starts (an execution's steps, a job) begins only once the call has answered, as on
AWS: `_after_response` holds it until the HTTP response is written. Every result leaves out
the structures AWS leaves out (response_shapes.py). Jobs moto only records as Completed but
the endpoint cannot run (AutoML, compilation) are refused as not implemented rather than passed
silently; tuning jobs run their trials for real (tuning_jobs.py).
"""

from __future__ import annotations

import threading
from typing import Any

from botocore.model import OperationNotFoundError
from flask import after_this_request, has_request_context
from moto.core.exceptions import ServiceException
from moto.core.responses import TYPE_RESPONSE, ActionResult, EmptyResult
from moto.core.utils import get_service_model
from moto.sagemaker.exceptions import ResourceNotFound, ValidationError
from moto.sagemaker.responses import SageMakerResponse

from .models import LocalSageMakerBackend
from .response_shapes import prune


def _after_response(release: Any) -> None:
    """Call `release` once the response has been sent (at once outside a server, e.g. mock_aws)."""
    if not has_request_context():
        release()
        return

    @after_this_request
    def hold(response: Any) -> Any:
        response.call_on_close(release)
        return response


class UnknownOperation(ServiceException):
    code = "UnknownOperationException"


class LocalSageMakerResponse(SageMakerResponse):
    @property
    def sagemaker_backend(self) -> LocalSageMakerBackend:  # type: ignore[override]
        return super().sagemaker_backend  # type: ignore[return-value]

    def call_action(self) -> TYPE_RESPONSE:
        """Refuse, as SageMaker does, an unknown operation or a request without a required member;
        answer moto's lookups of a missing resource (a bare KeyError) with ResourceNotFound."""
        try:
            self._check_request()
            return super().call_action()
        except KeyError as missing:
            error: ServiceException = ResourceNotFound(
                f"{self._get_action()}: resource {missing.args[0] if missing.args else ''!r} does not exist."
            )
        except ServiceException as refused:
            error = refused
        status, headers, body = self.serialized(ActionResult(error))
        return status, headers, body

    def _check_request(self) -> None:
        action = self._get_action()
        try:
            operation = get_service_model("sagemaker").operation_model(action)
        except OperationNotFoundError:
            raise UnknownOperation(f"Operation {action} is not a SageMaker operation") from None
        shape = operation.input_shape
        params = self._get_params() if shape is not None else {}
        for name in shape.required_members if shape is not None else []:
            if params.get(name) in (None, ""):
                raise ValidationError(
                    f"1 validation error detected: Value null at '{name[0].lower()}{name[1:]}' failed to satisfy "
                    "constraint: Member must not be null"
                )

    def serialized(self, action_result: ActionResult) -> TYPE_RESPONSE:
        if isinstance(action_result.result, dict):
            operation = get_service_model("sagemaker").operation_model(self._get_action())
            action_result = ActionResult(prune(action_result.result, operation.output_shape))
        return super().serialized(action_result)

    # --- pipelines ---------------------------------------------------------------------
    def start_pipeline_execution(self) -> ActionResult:
        if self._get_param("SelectiveExecutionConfig"):
            raise NotImplementedError("SelectiveExecutionConfig: the local endpoint runs whole executions")
        response, run = self.sagemaker_backend.start_local_pipeline_execution(
            pipeline_name=self._get_param("PipelineName"),
            pipeline_execution_display_name=self._get_param("PipelineExecutionDisplayName"),
            pipeline_parameters=self._get_param("PipelineParameters"),
            pipeline_execution_description=self._get_param("PipelineExecutionDescription"),
            parallelism_configuration=self._get_param("ParallelismConfiguration"),
            client_request_token=self._get_param("ClientRequestToken"),
            mlflow_experiment_name=self._get_param("MlflowExperimentName"),
        )
        _after_response(run.release)
        return ActionResult(response)

    def list_pipeline_executions(self) -> ActionResult:
        return ActionResult(
            self.sagemaker_backend.list_pipeline_executions(
                self._get_param("PipelineName"),
                created_after=self._get_param("CreatedAfter"),
                created_before=self._get_param("CreatedBefore"),
                sort_order=self._get_param("SortOrder"),
                max_results=self._get_param("MaxResults"),
                next_token=self._get_param("NextToken"),
            )
        )

    def list_pipeline_execution_steps(self) -> ActionResult:
        return ActionResult(
            self.sagemaker_backend.list_pipeline_execution_steps(
                self._get_param("PipelineExecutionArn"),
                max_results=self._get_param("MaxResults"),
                next_token=self._get_param("NextToken"),
                sort_order=self._get_param("SortOrder"),
            )
        )

    def stop_pipeline_execution(self) -> ActionResult:
        return ActionResult(self.sagemaker_backend.stop_pipeline_execution(self._get_param("PipelineExecutionArn")))

    def retry_pipeline_execution(self) -> ActionResult:
        response, run = self.sagemaker_backend.retry_local_pipeline_execution(
            self._get_param("PipelineExecutionArn"), self._get_param("ParallelismConfiguration")
        )
        _after_response(run.release)
        return ActionResult(response)

    def send_pipeline_execution_step_success(self) -> ActionResult:
        return ActionResult(self.sagemaker_backend.send_pipeline_execution_step_success(
            self._get_param("CallbackToken"), self._get_param("OutputParameters")))

    def send_pipeline_execution_step_failure(self) -> ActionResult:
        return ActionResult(self.sagemaker_backend.send_pipeline_execution_step_failure(
            self._get_param("CallbackToken"), self._get_param("FailureReason")))

    # --- jobs, run for real ------------------------------------------------------------------
    def _created(self, result: tuple[dict[str, str], threading.Event]) -> ActionResult:
        response, released = result
        _after_response(released.set)
        return ActionResult(response)

    def create_processing_job(self) -> ActionResult:
        return self._created(self.sagemaker_backend.create_local_processing_job(dict(self._get_params())))

    def create_training_job(self) -> ActionResult:
        return self._created(self.sagemaker_backend.create_local_training_job(dict(self._get_params())))

    def create_transform_job(self) -> ActionResult:
        return self._created(self.sagemaker_backend.create_local_transform_job(dict(self._get_params())))

    def stop_processing_job(self) -> ActionResult:
        self.sagemaker_backend.stop_job("processing", self._get_param("ProcessingJobName"))
        return EmptyResult()

    def stop_training_job(self) -> ActionResult:
        self.sagemaker_backend.stop_job("training", self._get_param("TrainingJobName"))
        return EmptyResult()

    def stop_transform_job(self) -> ActionResult:
        self.sagemaker_backend.stop_job("transform", self._get_param("TransformJobName"))
        return EmptyResult()

    def list_processing_jobs(self) -> ActionResult:
        return ActionResult(self.sagemaker_backend.list_jobs("processing", dict(self._get_params())))

    def list_training_jobs(self) -> ActionResult:
        return ActionResult(self.sagemaker_backend.list_jobs("training", dict(self._get_params())))

    def list_transform_jobs(self) -> ActionResult:
        return ActionResult(self.sagemaker_backend.list_jobs("transform", dict(self._get_params())))

    # --- hyperparameter tuning jobs, their trials run for real (tuning_jobs.py) ----------------
    def create_hyper_parameter_tuning_job(self) -> ActionResult:
        return self._created(self.sagemaker_backend.create_local_tuning_job(dict(self._get_params())))

    def describe_hyper_parameter_tuning_job(self) -> ActionResult:
        return ActionResult(self.sagemaker_backend.describe_tuning_job(self._get_param("HyperParameterTuningJobName")))

    def list_hyper_parameter_tuning_jobs(self) -> ActionResult:
        return ActionResult(self.sagemaker_backend.list_tuning_jobs(dict(self._get_params())))

    def stop_hyper_parameter_tuning_job(self) -> ActionResult:
        self.sagemaker_backend.stop_tuning_job(self._get_param("HyperParameterTuningJobName"))
        return EmptyResult()

    def delete_hyper_parameter_tuning_job(self) -> ActionResult:
        self.sagemaker_backend.delete_tuning_job(self._get_param("HyperParameterTuningJobName"))
        return EmptyResult()

    def list_training_jobs_for_hyper_parameter_tuning_job(self) -> ActionResult:
        params = dict(self._get_params())
        return ActionResult(self.sagemaker_backend.list_training_jobs_for_tuning_job(
            params.pop("HyperParameterTuningJobName"), params))

    # --- jobs moto would only record as Completed ------------------------------------------------

    def create_auto_ml_job_v2(self) -> ActionResult:
        raise NotImplementedError("CreateAutoMLJobV2: the local endpoint runs no AutoML jobs")

    def create_compilation_job(self) -> ActionResult:
        raise NotImplementedError("CreateCompilationJob: the local endpoint compiles no models")

    # --- hosting (hosting.py) ------------------------------------------------------------------
    def list_models(self) -> ActionResult:
        return ActionResult(self.sagemaker_backend.list_model_summaries(dict(self._get_params())))

    def update_endpoint(self) -> ActionResult:
        if self._get_param("DeploymentConfig") and (self._get_param("DeploymentConfig") or {}).get("RollingUpdatePolicy"):
            raise NotImplementedError("UpdateEndpoint DeploymentConfig.RollingUpdatePolicy: the local endpoint updates "
                                      "blue/green, all at once")
        arn = self.sagemaker_backend.update_endpoint(self._get_param("EndpointName"), self._get_param("EndpointConfigName"))
        return ActionResult({"EndpointArn": arn})

    # --- the registry -------------------------------------------------------------------------
    def delete_model_package(self) -> ActionResult:
        self.sagemaker_backend.delete_model_package(self._get_param("ModelPackageName"))
        return EmptyResult()

    def delete_model_package_group(self) -> ActionResult:
        self.sagemaker_backend.delete_model_package_group(self._get_param("ModelPackageGroupName"))
        return EmptyResult()
