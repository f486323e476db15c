"""Wait for a pipeline execution in the triggerer, logging every step as it moves.

The provider's SageMakerPipelineTrigger reads only the first page of the step listing, logs
counts rather than steps, cannot stop the execution on timeout and has no on_kill. This
subclass polls once per interval (one DescribePipelineExecution, one ListPipelineExecutionSteps
per page), logs one line per step status change, reports an execution that ended without succeeding
(Failed, Stopped, CompletedWithFailures) with SageMaker's own reasons, stops the execution when the deadline passes, and stops it when a user
marks the deferred task failed; a cleared task runs again and re-attaches, so clearing it does
not stop the execution.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.providers.amazon.aws.triggers.sagemaker import SageMakerPipelineTrigger
from airflow.triggers.base import TriggerEvent

from ..hooks.pipeline_execution import PipelineExecutionHook
from ..hooks.shared_async_clients import shared_client
from ..hooks.transient_errors import DEFAULT_OUTAGE_BUDGET_SECONDS, OutageClock
from ..statuses import UnknownStatusError, execution_outcome
from ..step_progress import ExecutionFailure, StepProgress, execution_failure

UNLIMITED_POLLS = 1_000_000


class PipelineExecutionTrigger(SageMakerPipelineTrigger):
    """Fires one event: success, failed (with the failed step and reason) or timeout.

    :param pipeline_execution_arn: the execution to follow.
    :param waiter_delay: seconds between polls.
    :param deadline: epoch seconds after which the execution is stopped and the event is timeout;
        None waits for as long as waiter_max_attempts allows.
    :param stop_on_kill: stop the execution when a user marks the deferred task failed.
    :param outage_budget: seconds the SageMaker API may stay unreachable (connection errors,
        throttling, 5xx, after the hook's own retries) before the trigger gives up with an
        "error" event saying since when; shorter outages only cost polls.
    """

    def __init__(
        self,
        pipeline_execution_arn: str,
        waiter_delay: int | float,
        aws_conn_id: str | None,
        waiter_max_attempts: int = UNLIMITED_POLLS,
        deadline: float | None = None,
        stop_on_kill: bool = True,
        outage_budget: float = DEFAULT_OUTAGE_BUDGET_SECONDS,
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict | None = None,
        waiter_type: int = SageMakerPipelineTrigger.Type.COMPLETE,
    ):
        super().__init__(
            waiter_type=waiter_type,
            pipeline_execution_arn=pipeline_execution_arn,
            waiter_delay=waiter_delay,  # type: ignore[arg-type]
            waiter_max_attempts=waiter_max_attempts,
            aws_conn_id=aws_conn_id,
            region_name=region_name,
            verify=verify,
            botocore_config=botocore_config,
        )
        self.deadline = deadline
        self.stop_on_kill = stop_on_kill
        self.outage_budget = outage_budget
        self.serialized_fields.update(deadline=deadline, stop_on_kill=stop_on_kill, outage_budget=outage_budget)
        self._kill_handled: asyncio.Future | None = None

    def hook(self) -> PipelineExecutionHook:
        return PipelineExecutionHook(
            aws_conn_id=self.aws_conn_id, region_name=self.region_name, verify=self.verify, config=self.botocore_config
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:
            async for event in self._watch():
                yield event
        except asyncio.CancelledError as cancel:
            if not cancel.args:
                # The triggerer cancels with a message (a user's action, its own shutdown) and calls
                # on_kill only when that message arrives. asgiref's sync_to_async (the hook's
                # get_async_conn, the credentials) re-raises a cancel without it, so a task marked
                # failed mid-call would leave the execution running: the task's state decides.
                await self._stop_once_if_marked_failed()
            raise

    async def _watch(self) -> AsyncIterator[TriggerEvent]:
        arn = self.pipeline_execution_arn
        progress = StepProgress()
        hook = self.hook()
        outages = OutageClock(self.outage_budget)
        status = "Unknown"
        async with shared_client(hook, self.botocore_config) as conn:
            for _ in range(self.attempts):
                # The deferring task has just looked: the first poll waits one interval too, so that
                # Airflow has recorded the deferral before the trigger can fire.
                await asyncio.sleep(float(self.waiter_delay))
                try:
                    description = await hook.describe_pipeline_exec_async(conn, arn)
                    steps = await hook.list_execution_steps_async(conn, arn)
                except Exception as error:
                    outage = outages.unreachable(error)
                    if outage.exhausted:
                        self.log.error("Giving up on watching %s: %s", arn, outage)
                        yield TriggerEvent({"status": "error", "value": arn, "execution_status": "Unknown",
                                            "failure_reason": str(outage)})
                        return
                    self.log.warning("Still watching %s: %s", arn, outage)
                    continue
                down = outages.reachable()
                if down is not None:
                    self.log.info("SageMaker API reachable again after %.0f s", down)
                for line in progress.changes(steps):
                    self.log.info(line)
                status = description["PipelineExecutionStatus"]
                try:
                    outcome = execution_outcome(status)
                except UnknownStatusError as error:
                    self.log.error("Pipeline execution %s: %s", arn, error)
                    yield TriggerEvent({"status": "failed", "value": arn, "execution_status": status,
                                        "failure_reason": str(error)})
                    return
                if outcome == "succeeded":
                    self.log.info("Pipeline execution %s Succeeded", arn)
                    yield TriggerEvent({"status": "success", "value": arn, "execution_status": status})
                    return
                if outcome == "unsuccessful":
                    failure = execution_failure(description, steps)
                    self.log.error(failure.message(arn))
                    yield TriggerEvent({"status": "failed", "value": arn, **_failure_fields(failure)})
                    return
                if self.deadline is not None and time.time() >= self.deadline:
                    self.log.error("Pipeline execution %s still %s at the deadline: stopping it", arn, status)
                    await hook.stop_pipeline_async(conn, arn)
                    yield TriggerEvent({"status": "timeout", "value": arn, "execution_status": status})
                    return
        yield TriggerEvent({"status": "timeout", "value": arn, "execution_status": status,
                            "failure_reason": f"no end after {self.attempts} polls"})

    async def on_kill(self) -> None:
        """The user marked the deferred task failed (stop the execution), or cleared it or marked it
        success (leave the execution alone: a cleared task re-attaches to it)."""
        await self._stop_once_if_marked_failed()

    async def _stop_once_if_marked_failed(self) -> None:
        if not self.stop_on_kill or self.task_instance is None:
            return
        # The triggerer may cancel again while the first kill is handled (seen on the native
        # stack: a second cancel arrived during the stop call), which can bring run()'s check and
        # then on_kill here for one kill: one shielded task asks, stops and reports, once.
        if self._kill_handled is None:
            self._kill_handled = asyncio.ensure_future(self._stop_if_marked_failed())
        await asyncio.shield(self._kill_handled)

    async def _stop_if_marked_failed(self) -> None:
        from asgiref.sync import sync_to_async

        from ..task_state import STOPPING_STATE, task_state

        ti = self.task_instance
        state = await sync_to_async(task_state)(ti.dag_id, ti.run_id, ti.task_id)
        if state != STOPPING_STATE:
            self.log.info("The task is %s, not failed: execution %s goes on (stop it with "
                          "`aws sagemaker stop-pipeline-execution --pipeline-execution-arn %s`)",
                          state, self.pipeline_execution_arn, self.pipeline_execution_arn)
            return
        self.log.info("The task was marked failed: stopping %s", self.pipeline_execution_arn)
        hook = self.hook()
        # A client of its own: the watch's shared one may be closing as the watch is cancelled.
        async with await hook.get_async_conn() as conn:
            await hook.stop_pipeline_async(conn, self.pipeline_execution_arn)
        from ..notifications import report_marked_failed

        await sync_to_async(report_marked_failed)(ti.dag_id, ti.run_id, ti.task_id, self.pipeline_execution_arn,
                                                  self.aws_conn_id)

def _failure_fields(failure: ExecutionFailure) -> dict[str, Any]:
    return {
        "execution_status": failure.status,
        "failure_reason": failure.reason,
        "failed_step": failure.failed_step,
        "failed_step_type": failure.failed_step_type,
    }

