"""Start a pipeline execution once per DAG run; when a cleared run's execution failed, resume it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.operators.sagemaker import SageMakerStartPipelineOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import AirflowFailException

from ..execution_identity import client_request_token, execution_display_name, retry_request_token
from ..hooks.pipeline_execution import PipelineExecutionHook
from ..links import LocalEndpointExecutionLink, SageMakerPipelineExecutionLink, persist_execution_link
from ..payloads import ExecutionOwner
from ..statuses import EXECUTION_RESUMABLE, execution_outcome

if TYPE_CHECKING:
    from airflow.sdk import Context

MAX_ATTEMPTS = 20  # new executions one run may start after failed ones; more is a loop, not a user


class StartPipelineExecutionOperator(SageMakerStartPipelineOperator):
    """SageMakerStartPipelineOperator with a ClientRequestToken and display name derived from the run.

    The provider sends no token, so a retry starts a second, billed execution, and its
    constant display name tells runs apart in no console. Here both come from dag_id and
    run_id: a retried or cleared task gets back the execution it already started (one that
    runs, or succeeded). A cleared run whose execution ended Failed or Stopped resumes it:
    RetryPipelineExecution re-runs its failed steps and keeps the succeeded ones, when the
    pipeline and the parameters are still the same; otherwise the run's next attempt starts a
    new execution (its token derives from the run and the attempt number, so that start is
    idempotent too). Parameter values are sent as strings. Returns the execution ARN; waiting is
    the sensor's job.

    :param pipeline_name: the pipeline to start (templated; e.g. the upsert task's output).
    :param pipeline_params: parameter name to value, numbers and booleans included; sent as
        strings (templated; values may be XComArgs).
    :param data_day: the day of data the run trains on, shown first in the display name (templated).
    :param description: the execution's description (templated); defaults to naming the DAG run.
    :param execution_of: the DAG run (dag_id, run_id) the token and display name derive from instead of this
        one (templated): a new-data run names the day's scheduled training run, so both get one execution.
    """

    aws_hook_class = PipelineExecutionHook
    template_fields: Sequence[str] = aws_template_fields("pipeline_name", "pipeline_params", "data_day", "description",
                                                           "execution_of")
    operator_extra_links = (SageMakerPipelineExecutionLink(), LocalEndpointExecutionLink())
    console_link_key = SageMakerPipelineExecutionLink.key  # the XCom the link is built from

    def __init__(self, *, data_day: str | None = None, description: str | None = None,
                 execution_of: ExecutionOwner | None = None, **kwargs: Any) -> None:
        # Only starting: never waits, never defers, whatever `[operators] default_deferrable` or the
        # DAG's default_args say (both are given to the provider's class explicitly, so neither applies).
        waits = {name: kwargs.pop(name) for name in ("wait_for_completion", "deferrable") if kwargs.get(name)}
        if waits:
            raise ValueError(
                f"StartPipelineExecutionOperator only starts: {', '.join(f'{name}=True' for name in waits)} is not "
                "allowed; follow the execution with PipelineExecutionSensor"
            )
        kwargs.pop("wait_for_completion", None)
        kwargs.pop("deferrable", None)
        super().__init__(wait_for_completion=False, deferrable=False, **kwargs)
        self.data_day = data_day
        self.description = description
        self.execution_of = execution_of

    def execute(self, context: Context) -> str:
        dag_id, run_id = context["dag"].dag_id, context["run_id"]
        if self.execution_of:
            dag_id, run_id = self.execution_of["dag_id"], self.execution_of["run_id"]
            self.log.info("This run's execution is that of %s run %s (one execution per data day)", dag_id, run_id)
        # Every try walks the run's attempts from the first: the dead ones are resumed or passed
        # over, so a retry after a lost response lands on the live one. (An automatic retry can
        # only meet a dead execution when it failed within the retry delay; it is resumed then too.)
        for attempt in range(MAX_ATTEMPTS):
            self.display_name = execution_display_name(dag_id, run_id, self.data_day, attempt)
            arn = self.hook.start_pipeline(
                self.pipeline_name,
                self.display_name,
                self.pipeline_params,
                client_request_token=client_request_token(dag_id, run_id, self.pipeline_name, attempt),
                description=self.description or self._description(context, attempt),
            )
            status = self.hook.describe_pipeline_exec(arn)["PipelineExecutionStatus"]
            if execution_outcome(status) != "unsuccessful":  # running, or succeeded: this run's execution
                break
            if status in EXECUTION_RESUMABLE and self._resumed(arn, status, context):
                status = "resumed"
                break
        else:
            raise AirflowFailException(f"Run {run_id} already made {MAX_ATTEMPTS} executions that failed; start a new run")
        self.log.info("Pipeline %s execution %s (display name %s, %s)", self.pipeline_name, arn, self.display_name, status)
        persist_execution_link(context, self, arn)
        return arn

    def _description(self, context: Context, attempt: int) -> str:
        started_by = f"Airflow DAG {context['dag'].dag_id}, run {context['run_id']}"
        if self.execution_of:
            started_by += f", for {self.execution_of['dag_id']} run {self.execution_of['run_id']}"
        return f"{started_by}, attempt {attempt + 1}"

    def _resumed(self, arn: str, status: str, context: Context) -> bool:
        """Retry a Failed or Stopped execution of this run when that redoes what the run asks for."""
        blocker = self.hook.resume_blocker(arn, self.pipeline_params)
        if blocker:
            self.log.warning("The run's execution %s is %s and is not resumed (%s): starting a new one", arn, status,
                             blocker)
            return False
        self.hook.retry_pipeline_execution(arn, retry_request_token(arn, context["ti"].try_number))
        self.log.warning("The run's execution %s was %s: resumed with RetryPipelineExecution (its failed steps run "
                         "again, the succeeded ones are kept)", arn, status)
        return True
