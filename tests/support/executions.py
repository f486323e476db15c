"""Watching and disturbing the executions a DAG run starts on the endpoint, as a person or a fault would."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest


def executions_of(endpoint_client: Any, pipeline_name: str) -> list[dict]:
    """The pipeline's executions, newest first."""
    return endpoint_client("sagemaker").list_pipeline_executions(PipelineName=pipeline_name)["PipelineExecutionSummaries"]


@contextmanager
def when_step_starts(pipeline_name: str, step_name: str, action: Callable[[str], object], *,
                     hold: bool = True) -> Iterator[list[str]]:
    """Run `action(execution_arn)` once, as the job of `step_name` of the pipeline's next execution starts.

    The session's endpoint runs in this process (tests/conftest.py): its jobs' start is wrapped, so
    the action certainly meets the step Executing and its job not yet done, however slow the
    machine (polling the API for "Executing" missed a one-second step). `hold`: the job waits until
    the action returns (a stop lands before its process starts); else the action runs beside the
    starting process (an action that needs the process, to kill it).

    Yields the list that receives the execution ARN acted on.
    """
    from devtools.local_sagemaker.engine.jobs.container import ContainerJob
    from devtools.local_sagemaker.engine.steps.step_runtime import step_in_job_names

    acted: list[str] = []
    claim = threading.Lock()
    step_part = f"-{step_in_job_names(step_name)}-"
    pipeline_in_arns = f":pipeline/{pipeline_name}/execution/".lower()
    run_job = ContainerJob.run

    def run_after_the_action(job: ContainerJob, *args: Any, **kwargs: Any) -> None:
        arn = job.job.record.get("PipelineExecutionArn", "")
        with claim:
            ours = not acted and step_part in job.name and pipeline_in_arns in arn.lower()
            if ours:
                acted.append(arn)
                _starting_jobs[arn] = job
        if ours and hold:
            action(arn)
        elif ours:
            threading.Thread(target=action, args=(arn,), daemon=True).start()
        return run_job(job, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ContainerJob, "run", run_after_the_action)
        yield acted


def kill_training_job_processes(execution_arn: str, timeout: float = 60) -> int:
    """SIGKILL the process group of the execution's training job, as a lost instance would end it.

    For an action of `when_step_starts(..., hold=False)` on the training step: the job is the one
    it saw start; its process (a session of its own, forked or not) is killed with its children."""
    from devtools.local_sagemaker.engine.job_process import signal_group

    job = _starting_jobs[execution_arn]
    if not job.process.started.wait(timeout):
        raise TimeoutError(f"the training job of {execution_arn} started no process within {timeout} s")
    # As the endpoint signals its jobs: the group, or the process itself while a forked job is not yet
    # the leader of a session of its own.
    signal_group(job.process.pid, signal.SIGKILL)
    return job.process.pid


# The job each `when_step_starts` acted on, by execution ARN (the endpoint runs in this process).
_starting_jobs: dict[str, Any] = {}
