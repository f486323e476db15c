"""The SageMaker API actions moto lacks or answers differently, on top of its responses."""

from __future__ import annotations

from moto.core.responses import ActionResult
from moto.sagemaker.responses import SageMakerResponse

from .models import LocalSageMakerBackend


class LocalSageMakerResponse(SageMakerResponse):
    @property
    def sagemaker_backend(self) -> LocalSageMakerBackend:  # type: ignore[override]
        return super().sagemaker_backend  # type: ignore[return-value]

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
        return ActionResult(
            self.sagemaker_backend.retry_pipeline_execution(
                self._get_param("PipelineExecutionArn"), self._get_param("ParallelismConfiguration")
            )
        )
