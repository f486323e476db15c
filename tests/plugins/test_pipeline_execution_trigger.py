"""The trigger against real executions on the local endpoint."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest
from airflow_sagemaker_pipelines.hooks.pipeline_execution import PipelineExecutionHook
from airflow_sagemaker_pipelines.triggers.pipeline_execution import PipelineExecutionTrigger

from tests.support.pipelines import (
    create_pipeline,
    processing_step,
    put_script,
    steps_completing_with_failures,
    wait_for,
)
from tests.support.triggers import first_event

STEPS_BEYOND_ONE_PAGE = 55  # the API's default page holds 50


def condition_chain(count: int) -> list[dict[str, Any]]:
    """`count` instant steps in a row: an execution whose step listing spans two pages."""
    return [{"Name": f"Check{i:02d}", "Type": "Condition",
             **({"DependsOn": [f"Check{i - 1:02d}"]} if i else {}),
             "Arguments": {"Conditions": [{"Type": "Equals", "LeftValue": 1, "RightValue": 1}],
                           "IfSteps": [], "ElseSteps": []}}
            for i in range(count)]


def start(sagemaker, pipeline_name: str) -> str:
    return sagemaker.start_pipeline_execution(PipelineName=pipeline_name)["PipelineExecutionArn"]


def script_pipeline(endpoint_client, sagemaker, bucket: str, source: str) -> str:
    key = put_script(endpoint_client("s3"), bucket, source)
    return create_pipeline(sagemaker, [processing_step("RunScript", bucket, key)])


def running_execution(endpoint_client, sagemaker, bucket: str) -> str:
    """An execution whose one step runs for two minutes, already Executing."""
    arn = start(sagemaker, script_pipeline(endpoint_client, sagemaker, bucket, "import time\ntime.sleep(120)\n"))
    wait_for(sagemaker, arn, statuses=("Executing",))
    return arn


def trigger_for(arn: str, **kwargs: Any) -> PipelineExecutionTrigger:
    return PipelineExecutionTrigger(pipeline_execution_arn=arn, waiter_delay=0.2, aws_conn_id="aws_default", **kwargs)


def test_success_is_logged_step_by_step_across_listing_pages(aws_default_connection, sagemaker, capfd) -> None:
    arn = start(sagemaker, create_pipeline(sagemaker, condition_chain(STEPS_BEYOND_ONE_PAGE)))
    wait_for(sagemaker, arn)
    capfd.readouterr()

    event = first_event(trigger_for(arn))

    assert event == {"status": "success", "value": arn, "execution_status": "Succeeded"}
    logged = capfd.readouterr()
    step_lines = re.findall(r"Step Check\d+: \w+", logged.out + logged.err)
    assert len(step_lines) == STEPS_BEYOND_ONE_PAGE
    assert step_lines[-1] == f"Step Check{STEPS_BEYOND_ONE_PAGE - 1}: Succeeded"
    assert len(PipelineExecutionHook(aws_conn_id="aws_default").list_execution_steps(arn)) == STEPS_BEYOND_ONE_PAGE


def test_failure_event_names_the_step_and_sagemakers_reason(aws_default_connection, endpoint_client, sagemaker, bucket) -> None:
    pipeline = script_pipeline(endpoint_client, sagemaker, bucket, "import sys\nprint('feature x is empty')\nsys.exit(3)\n")
    arn = start(sagemaker, pipeline)

    event = first_event(trigger_for(arn))

    assert event["status"] == "failed" and event["execution_status"] == "Failed"
    assert event["failed_step"] == "RunScript" and event["failed_step_type"] == "ProcessingJob"
    assert "exited with code 3" in event["failure_reason"]


def test_an_execution_that_completes_with_failures_ends_the_wait_naming_each_failed_step(
    aws_default_connection, sagemaker
) -> None:
    arn = start(sagemaker, create_pipeline(sagemaker, steps_completing_with_failures()))
    assert wait_for(sagemaker, arn)["PipelineExecutionStatus"] == "CompletedWithFailures"

    event = first_event(trigger_for(arn, deadline=time.time() + 600))  # one poll: the wait ends at once

    assert event["status"] == "failed" and event["execution_status"] == "CompletedWithFailures"
    assert event["failed_step"] == "Breaks" and event["failed_step_type"] == "Fail"
    assert "Breaks Failed: broken on purpose" in event["failure_reason"]
    assert "AlsoBreaks Failed: broken too" in event["failure_reason"]


def test_deadline_stops_the_execution_and_reports_a_timeout(aws_default_connection, endpoint_client, sagemaker, bucket) -> None:
    arn = start(sagemaker, script_pipeline(endpoint_client, sagemaker, bucket, "import time\ntime.sleep(120)\n"))

    event = first_event(trigger_for(arn, deadline=time.time() + 1))

    assert event["status"] == "timeout"
    assert wait_for(sagemaker, arn, timeout=30)["PipelineExecutionStatus"] == "Stopped"


def killed_as(arn: str, state: str | None, monkeypatch: pytest.MonkeyPatch) -> PipelineExecutionTrigger:
    """The trigger of a deferred task that a user just marked `state` (None: cleared).

    The triggerer asks the API server for the task's state; here Airflow's own lookup answers
    what the metadata DB would."""
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

    monkeypatch.setattr(RuntimeTaskInstance, "get_task_states", staticmethod(
        lambda dag_id, task_ids, run_ids, **_: {"run-1": {"wait": state}}))
    trigger = trigger_for(arn)
    trigger.task_instance = SimpleNamespace(dag_id="dag", run_id="run-1", task_id="wait", map_index=-1, id="ti-1",
                                            try_number=1, context_carrier=None)
    return trigger


def test_marking_the_deferred_task_failed_stops_the_execution(
    aws_default_connection, endpoint_client, sagemaker, bucket, monkeypatch
) -> None:
    arn = running_execution(endpoint_client, sagemaker, bucket)

    asyncio.run(killed_as(arn, "failed", monkeypatch).on_kill())

    assert wait_for(sagemaker, arn, timeout=30)["PipelineExecutionStatus"] == "Stopped"


@pytest.mark.parametrize("state", [None, "success"])
def test_clearing_the_deferred_task_leaves_the_execution_running(
    aws_default_connection, endpoint_client, sagemaker, bucket, monkeypatch, state
) -> None:
    arn = running_execution(endpoint_client, sagemaker, bucket)

    asyncio.run(killed_as(arn, state, monkeypatch).on_kill())

    assert sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"] == "Executing"
    sagemaker.stop_pipeline_execution(PipelineExecutionArn=arn)


SHUTDOWN = "EOF - shutting down"  # the message the triggerer cancels its triggers with when it stops


def cancelled_by_the_triggerer(trigger: PipelineExecutionTrigger, monkeypatch: pytest.MonkeyPatch, *,
                               during: str, message: str | None = None, again_while_asking: bool = False) -> int:
    """Run the trigger in Airflow's own TriggerRunner and cancel it as the triggerer does, while the
    trigger is `during` "credentials" (the hook's get_async_conn, a sync_to_async call) or "sleep"
    (between two polls). `message` None is a user's action; `again_while_asking`: a second one
    arrives while the trigger asks for the task's state. Answers how many stops were sent."""
    from airflow.jobs.triggerer_job_runner import TriggerRunner
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

    asked, answer = threading.Event(), threading.Event()
    states = RuntimeTaskInstance.get_task_states

    def held_states(**query: Any) -> Any:
        asked.set()
        answer.wait(30)
        return states(**query)

    if again_while_asking:
        monkeypatch.setattr(RuntimeTaskInstance, "get_task_states", staticmethod(held_states))
    else:
        answer.set()

    in_credentials, release = threading.Event(), threading.Event()
    build_client = PipelineExecutionHook._get_async_conn

    def held_client(hook: PipelineExecutionHook) -> Any:
        if not in_credentials.is_set():
            in_credentials.set()
            release.wait(30)
        return build_client(hook)

    monkeypatch.setattr(PipelineExecutionHook, "_get_async_conn", held_client)
    stops = []
    stop = PipelineExecutionHook.stop_pipeline_async

    async def counted_stop(hook: PipelineExecutionHook, conn: Any, arn: str) -> None:
        stops.append(arn)
        await stop(hook, conn, arn)

    monkeypatch.setattr(PipelineExecutionHook, "stop_pipeline_async", counted_stop)
    list_steps = PipelineExecutionHook.list_execution_steps_async
    polled: list[asyncio.Event] = []

    async def noted_list(hook: PipelineExecutionHook, conn: Any, arn: str) -> Any:
        steps = await list_steps(hook, conn, arn)
        polled[0].set()  # the trigger goes straight on to sleep until its next poll
        return steps

    monkeypatch.setattr(PipelineExecutionHook, "list_execution_steps_async", noted_list)

    async def scenario() -> None:
        polled.append(asyncio.Event())
        runner = TriggerRunner()
        runner.triggers[1] = {"name": "wait", "events": 0}
        task = runner.triggers[1]["task"] = asyncio.create_task(runner.run_trigger(1, trigger))
        await asyncio.to_thread(in_credentials.wait, 30)
        if during == "sleep":
            release.set()
            await asyncio.wait_for(polled[0].wait(), 30)
        if message is None:
            runner.to_cancel.append(1)
            await runner.cancel_triggers()
        else:
            task.cancel(message)
        release.set()
        if again_while_asking:
            await asyncio.to_thread(asked.wait, 30)
            runner.to_cancel.append(1)
            await runner.cancel_triggers()
            answer.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        # A triggerer's loop lives on: what the trigger left running (a shielded stop) finishes.
        left_running = [other for other in asyncio.all_tasks() if other is not asyncio.current_task()]
        if left_running:
            await asyncio.wait(left_running, timeout=30)

    asyncio.run(scenario())
    return len(stops)


@pytest.mark.parametrize("during", ["credentials", "sleep"])
def test_a_task_marked_failed_while_the_trigger_is_anywhere_stops_the_execution_once(
    aws_default_connection, endpoint_client, sagemaker, bucket, monkeypatch, during
) -> None:
    arn = running_execution(endpoint_client, sagemaker, bucket)

    stops = cancelled_by_the_triggerer(killed_as(arn, "failed", monkeypatch), monkeypatch, during=during)

    assert stops == 1
    assert wait_for(sagemaker, arn, timeout=30)["PipelineExecutionStatus"] == "Stopped"


@pytest.mark.parametrize("during", ["credentials", "sleep"])
def test_a_second_cancel_while_the_first_is_handled_stops_and_reports_once(
    aws_default_connection, endpoint_client, sagemaker, bucket, monkeypatch, during
) -> None:
    arn = running_execution(endpoint_client, sagemaker, bucket)
    reports = []
    monkeypatch.setattr("airflow_sagemaker_pipelines.notifications.report_marked_failed",
                        lambda *args: reports.append(args))

    stops = cancelled_by_the_triggerer(killed_as(arn, "failed", monkeypatch), monkeypatch, during=during,
                                       again_while_asking=True)

    assert (stops, len(reports)) == (1, 1)
    assert wait_for(sagemaker, arn, timeout=30)["PipelineExecutionStatus"] == "Stopped"


def test_a_triggerer_shutdown_leaves_the_execution_running(
    aws_default_connection, endpoint_client, sagemaker, bucket, monkeypatch
) -> None:
    arn = running_execution(endpoint_client, sagemaker, bucket)

    stops = cancelled_by_the_triggerer(killed_as(arn, "deferred", monkeypatch), monkeypatch, during="credentials",
                                       message=SHUTDOWN)

    assert stops == 0
    assert sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"] == "Executing"
    sagemaker.stop_pipeline_execution(PipelineExecutionArn=arn)


def test_trigger_survives_serialization_to_the_triggerer() -> None:
    trigger = trigger_for("arn:aws:sagemaker:us-east-1:1:pipeline/p/execution/e", deadline=123.0, stop_on_kill=False)
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_sagemaker_pipelines.triggers.pipeline_execution.PipelineExecutionTrigger"
    rebuilt = PipelineExecutionTrigger(**kwargs)
    assert rebuilt.serialize() == (classpath, kwargs)
    assert (rebuilt.deadline, rebuilt.stop_on_kill, rebuilt.waiter_delay) == (123.0, False, 0.2)


def test_waits_on_one_connection_share_one_client_and_each_gets_its_own_event(
    aws_default_connection, sagemaker, monkeypatch
) -> None:
    pipeline = create_pipeline(sagemaker, condition_chain(1))
    arns = [start(sagemaker, pipeline) for _ in range(20)]
    for arn in arns:
        wait_for(sagemaker, arn)
    opened = []
    get_async_conn = PipelineExecutionHook.get_async_conn

    async def counted(self):
        opened.append(self.aws_conn_id)
        return await get_async_conn(self)

    monkeypatch.setattr(PipelineExecutionHook, "get_async_conn", counted)

    async def run_all() -> list[dict[str, Any]]:
        async def event_of(arn: str) -> dict[str, Any]:
            async for event in trigger_for(arn).run():
                return event.payload
            raise AssertionError("no event")
        return await asyncio.gather(*(event_of(arn) for arn in arns))

    events = asyncio.run(run_all())
    assert [event["value"] for event in events] == arns and {event["status"] for event in events} == {"success"}
    assert opened == ["aws_default"]  # one client for the 20 waits
