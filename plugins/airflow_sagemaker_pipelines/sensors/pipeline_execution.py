"""Follow a pipeline execution to its end, deferred by default, and stop it when the task is killed.

Closes the provider sensor's gaps: it has no deferrable mode, counts Stopped as success, says
"Unknown" for every failure (or raises KeyError when there is no FailureReason), and leaves
the execution running when the task is marked failed. Clearing the task is "wait again", not
"kill the work": the execution goes on, and a cleared task that finds it Failed or Stopped
resumes it with RetryPipelineExecution.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.sensors.sagemaker import SageMakerPipelineSensor
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import (
    AirflowException,
    AirflowFailException,
    AirflowSensorTimeout,
    PokeReturnValue,
)

from ..hooks.pipeline_execution import PipelineExecutionHook
from ..hooks.transient_errors import DEFAULT_OUTAGE_BUDGET_SECONDS
from ..links import LocalEndpointExecutionLink, SageMakerPipelineExecutionLink, persist_execution_link
from ..payloads import ExecutionSummary
from ..statuses import EXECUTION_FAILED, EXECUTION_RESUMABLE, EXECUTION_SUCCEEDED, UnknownStatusError, execution_outcome

# The trigger, the step log formatting and the job log reader are imported where they are
# used: a DAG file importing this sensor stays fast to parse.

if TYPE_CHECKING:
    from airflow.sdk import Context

# The triggerer enforces its own timeout without calling on_kill; give ours time to stop the
# execution first.
_TRIGGER_TIMEOUT_MARGIN = timedelta(minutes=10)


class PipelineExecutionSensor(SageMakerPipelineSensor):
    """Wait for a pipeline execution; returns an ExecutionSummary (multiple outputs).

    An execution that ends without succeeding (Failed, Stopped, CompletedWithFailures) fails the
    task at once with SageMaker's reasons, naming the steps that did not succeed,
    except when the failed step is one of `quality_gate_steps`: that is the pipeline deciding the
    model is not good enough, and the summary (gate_failed=True) lets the DAG record and announce
    that decision instead of crashing.

    :param pipeline_exec_arn: the execution to follow (templated).
    :param poll_interval: seconds between polls, one describe and one step listing each (templated).
    :param timeout: seconds before the execution is stopped and the task fails.
    :param quality_gate_steps: names of Fail steps whose failure is a decision, not an error.
    :param deferrable: wait in the triggerer, holding no worker slot. True by default, whatever
        `[operators] default_deferrable` says: an execution runs for hours. False pokes from a worker
        (`mode="reschedule"` frees the slot between pokes), with the same logs and verdicts.
    :param stop_on_kill: stop the execution when the task is killed or marked failed (default True).
    :param log_tail_lines: lines of the failed step's job log to copy into the task log.
    :param outage_budget: seconds the SageMaker API may stay unreachable before the task fails
        (retryably: its retry re-attaches to the same execution).
    """

    aws_hook_class = PipelineExecutionHook
    template_fields: Sequence[str] = aws_template_fields("pipeline_exec_arn", "poll_interval")
    # The task people watch links to the execution too.
    operator_extra_links = (SageMakerPipelineExecutionLink(), LocalEndpointExecutionLink())

    def __init__(
        self,
        *,
        pipeline_exec_arn: str,
        poll_interval: int | float | str = 30,
        quality_gate_steps: Sequence[str] = (),
        deferrable: bool = True,
        stop_on_kill: bool = True,
        log_tail_lines: int = 40,
        outage_budget: float = DEFAULT_OUTAGE_BUDGET_SECONDS,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("multiple_outputs", True)
        super().__init__(pipeline_exec_arn=pipeline_exec_arn, **kwargs)
        self.poll_interval = poll_interval
        self.quality_gate_steps = tuple(quality_gate_steps)
        self.deferrable = deferrable
        self.stop_on_kill = stop_on_kill
        self.log_tail_lines = log_tail_lines
        self.outage_budget = outage_budget
        self._outages: Any = None  # the synchronous path's OutageClock, made on first poke
        self._progress: Any = None  # StepProgress of the synchronous path, made on first poke

    def _poll_seconds(self) -> float:
        try:
            seconds = float(self.poll_interval)
        except (TypeError, ValueError):
            raise ValueError(f"poll_interval={self.poll_interval!r}: expected a number of seconds") from None
        if seconds <= 0:
            raise ValueError(f"poll_interval={self.poll_interval!r}: expected a positive number of seconds")
        return seconds

    def execute(self, context: Context) -> Any:
        from ..task_state import first_try_after_a_clear
        from ..triggers.pipeline_execution import PipelineExecutionTrigger

        ti = context["ti"]
        self._task_key = (ti.dag_id, ti.run_id, ti.task_id)
        if first_try_after_a_clear(ti, self.retries):  # a person asked for it: a dead execution is resumed
            self._resume_if_ended(ti.try_number)
        persist_execution_link(context, self, self.pipeline_exec_arn)
        self.poke_interval = self._poll_seconds()
        if not self.deferrable:
            return super().execute(context)
        # One look first: an execution that already ended (a fast one, a cleared task's) is concluded
        # here, never deferred. A trigger firing while the deferral is being recorded meets Airflow
        # 3.3.2's resume-after-defer race (apache/airflow#67287): the task is killed as "running elsewhere".
        ended = self.poke(context)
        if ended:
            return ended.xcom_value
        self.log.info("Waiting for %s in the triggerer, polling every %s s", self.pipeline_exec_arn, self.poke_interval)
        self.defer(
            trigger=PipelineExecutionTrigger(
                pipeline_execution_arn=self.pipeline_exec_arn,
                waiter_delay=self.poke_interval,
                deadline=time.time() + float(self.timeout),
                stop_on_kill=self.stop_on_kill,
                outage_budget=self.outage_budget,
                aws_conn_id=self.aws_conn_id,
                region_name=self.region_name,
                verify=self.verify,
                botocore_config=self.botocore_config,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=float(self.timeout)) + _TRIGGER_TIMEOUT_MARGIN,
        )

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> ExecutionSummary:
        if not event or "status" not in event:
            raise AirflowException(f"The pipeline trigger ended without a usable event: {event!r}")
        if event["status"] == "error":  # the API, not the execution: a retry re-attaches to it
            raise AirflowException(f"Lost sight of pipeline execution {event['value']}: {event['failure_reason']}; "
                                   "it goes on, and this task's retry waits for it again")
        summary: ExecutionSummary = {
            "execution_arn": event["value"],
            "execution_status": event.get("execution_status") or "Unknown",
            "failure_reason": event.get("failure_reason"),
            "failed_step": event.get("failed_step"),
            "failed_step_type": event.get("failed_step_type"),
            "gate_failed": False,
        }
        return self._conclude(summary, timed_out=event["status"] == "timeout")

    def poke(self, context: Context) -> Any:
        """The synchronous path: same logs, same verdicts as the trigger."""
        from ..step_progress import StepProgress, execution_failure

        self._progress = self._progress or StepProgress()
        try:
            description = self.hook.describe_pipeline_exec(self.pipeline_exec_arn)
            steps = self.hook.list_execution_steps(self.pipeline_exec_arn)
        except Exception as error:
            return self._through_an_outage(error)
        self._outage_clock().reachable()
        for line in self._progress.changes(steps):
            self.log.info(line)
        status = description["PipelineExecutionStatus"]
        summary: ExecutionSummary = {
            "execution_arn": self.pipeline_exec_arn, "execution_status": status, "failure_reason": None,
            "failed_step": None, "failed_step_type": None, "gate_failed": False,
        }
        try:
            outcome = execution_outcome(status)
        except UnknownStatusError as error:
            outcome, summary["failure_reason"] = "unsuccessful", str(error)
        if outcome == "running":
            return False
        if outcome == "unsuccessful" and summary["failure_reason"] is None:
            failure = execution_failure(description, steps)
            summary.update(failure_reason=failure.reason, failed_step=failure.failed_step,
                           failed_step_type=failure.failed_step_type)
        return PokeReturnValue(is_done=True, xcom_value=self._conclude(summary, timed_out=False))

    def _outage_clock(self) -> Any:
        from ..hooks.transient_errors import OutageClock

        self._outages = self._outages or OutageClock(self.outage_budget)
        return self._outages

    def _through_an_outage(self, error: Exception) -> bool:
        """Poke again later while the API is unreachable within the budget; after it, fail (retryably)."""
        outage = self._outage_clock().unreachable(error)
        if outage.exhausted:
            raise AirflowException(f"Lost sight of pipeline execution {self.pipeline_exec_arn}: {outage}")
        self.log.warning("Still watching %s: %s", self.pipeline_exec_arn, outage)
        return False

    def _conclude(self, summary: ExecutionSummary, *, timed_out: bool) -> ExecutionSummary:
        arn, status = summary["execution_arn"], summary["execution_status"]
        if timed_out:
            raise AirflowSensorTimeout(
                f"Pipeline execution {arn} did not finish within {self.timeout} s; it was asked to stop "
                f"({summary.get('failure_reason') or 'deadline reached'})"
            )
        if status == EXECUTION_SUCCEEDED:
            return summary
        if status == EXECUTION_FAILED and summary["failed_step"] in self.quality_gate_steps:
            self.log.warning("The pipeline's quality gate %s failed: %s", summary["failed_step"], summary["failure_reason"])
            return {**summary, "gate_failed": True}
        step = summary["failed_step"]
        if step:
            from ..failed_step_logs import log_tail_of_step

            log_tail_of_step(self.hook, arn, step, self.log_tail_lines, self.log)
        where = f" at step {step}" if step else ""
        # The execution's verdict: waiting again changes nothing (clearing the task resumes it).
        raise AirflowFailException(f"Pipeline execution {arn} {status}{where}: {summary['failure_reason']}")

    def _resume_if_ended(self, try_number: int) -> None:
        """A Failed or Stopped execution (not the quality gate's verdict) is retried from its failed steps."""
        from ..execution_identity import retry_request_token
        from ..step_progress import execution_failure

        arn = self.pipeline_exec_arn
        description = self.hook.describe_pipeline_exec(arn)
        status = description["PipelineExecutionStatus"]
        if status not in EXECUTION_RESUMABLE:
            return
        failure = execution_failure(description, self.hook.list_execution_steps(arn))
        if status == EXECUTION_FAILED and failure.failed_step in self.quality_gate_steps:
            return  # the pipeline decided; waiting again reports the same decision
        blocker = self.hook.resume_blocker(arn)
        if blocker:
            raise AirflowException(f"Pipeline execution {arn} is {status} and cannot be resumed ({blocker}): "
                                   "clear start_execution too, to start the run's next execution")
        self.hook.retry_pipeline_execution(arn, retry_request_token(arn, try_number))
        self.log.warning("Pipeline execution %s was %s (%s): resumed with RetryPipelineExecution", arn, status,
                         failure.reason)

    def on_kill(self) -> None:
        """Killed while poking synchronously: stop the execution when the task was marked failed;
        a cleared task runs again and re-attaches to it."""
        from ..task_state import killed_to_stop

        task_key = getattr(self, "_task_key", None)
        if not (self.stop_on_kill and self.pipeline_exec_arn and task_key):
            return
        if not killed_to_stop(*task_key):
            self.log.info("Task killed but not marked failed: %s goes on", self.pipeline_exec_arn)
            return
        self.log.info("Task marked failed: stopping %s", self.pipeline_exec_arn)
        self.hook.stop_pipeline(self.pipeline_exec_arn, fail_if_not_running=False)
