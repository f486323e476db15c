"""Start a pipeline execution once per DAG run, however often the task is retried or cleared."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.operators.sagemaker import SageMakerStartPipelineOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields

from ..execution_identity import client_request_token, execution_display_name
from ..hooks.pipeline_execution import PipelineExecutionHook
from ..links import SageMakerPipelineExecutionLink, execution_arn_parts

if TYPE_CHECKING:
    from airflow.sdk import Context


class StartPipelineExecutionOperator(SageMakerStartPipelineOperator):
    """SageMakerStartPipelineOperator with a ClientRequestToken and display name derived from the run.

    The provider sends no token, so a retry starts a second, billed execution, and its
    constant display name tells runs apart in no console. Here both come from dag_id and
    run_id: a retried or cleared task gets back the execution it already started. Parameter
    values are sent as strings. Returns the execution ARN; waiting is the sensor's job.

    :param pipeline_name: the pipeline to start (templated; e.g. the upsert task's output).
    :param pipeline_params: parameter name to value, numbers and booleans included; sent as
        strings (templated; values may be XComArgs).
    :param description: the execution's description (templated); defaults to naming the DAG run.
    """

    aws_hook_class = PipelineExecutionHook
    template_fields: Sequence[str] = aws_template_fields("pipeline_name", "pipeline_params", "description")
    operator_extra_links = (SageMakerPipelineExecutionLink(),)
    console_link_key = SageMakerPipelineExecutionLink.key  # the XCom the link is built from

    def __init__(self, *, description: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("wait_for_completion", False)
        super().__init__(**kwargs)
        if self.wait_for_completion or self.deferrable:
            raise ValueError(
                "StartPipelineExecutionOperator only starts: set wait_for_completion=False and deferrable=False "
                "and follow the execution with PipelineExecutionSensor"
            )
        self.description = description

    def execute(self, context: Context) -> str:
        dag_id, run_id = context["dag"].dag_id, context["run_id"]
        self.display_name = execution_display_name(dag_id, run_id)
        arn = self.hook.start_pipeline(
            self.pipeline_name,
            self.display_name,
            self.pipeline_params,
            client_request_token=client_request_token(dag_id, run_id, self.pipeline_name),
            description=self.description or f"Airflow DAG {dag_id}, run {run_id}",
        )
        self.log.info("Pipeline %s execution %s (display name %s)", self.pipeline_name, arn, self.display_name)
        SageMakerPipelineExecutionLink.persist(
            context=context,
            operator=self,
            region_name=self.hook.conn_region_name,
            aws_partition=self.hook.conn_partition,
            **execution_arn_parts(arn),
        )
        return arn
