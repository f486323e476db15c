"""Watching and disturbing the executions a DAG run starts on the endpoint, as a person or a fault would."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError


def executions_of(endpoint_client: Any, pipeline_name: str) -> list[dict]:
    """The pipeline's executions, newest first."""
    return endpoint_client("sagemaker").list_pipeline_executions(PipelineName=pipeline_name)["PipelineExecutionSummaries"]


@contextmanager
def when_step_starts(endpoint_client: Any, pipeline_name: str, step_name: str,
                     action: Callable[[str], None], timeout: float = 180) -> Iterator[list[str]]:
    """Run `action(execution_arn)` once, as soon as `step_name` of a new execution is Executing.

    Yields the list that receives the execution ARN acted on; the watcher stops when the block ends.
    """
    sagemaker = endpoint_client("sagemaker")
    acted: list[str] = []
    done = threading.Event()

    def watch() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not done.is_set() and not acted:
            time.sleep(0.2)
            try:
                executions = executions_of(endpoint_client, pipeline_name)
            except ClientError:  # the DAG has not created the pipeline yet
                continue
            for execution in executions:
                arn = execution["PipelineExecutionArn"]
                steps = sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
                if any(s["StepName"] == step_name and s["StepStatus"] == "Executing" for s in steps):
                    action(arn)
                    acted.append(arn)
                    return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield acted
    finally:
        done.set()
        watcher.join()


def kill_training_job_processes(execution_arn: str, timeout: float = 60) -> int:
    """SIGKILL the processes of the execution's training job, as a lost instance would end them.

    Found by the TRAINING_JOB_NAME the endpoint gives each job process (it names the execution).
    """
    execution_id = execution_arn.rsplit("/", 1)[-1]
    marker = f"TRAINING_JOB_NAME=pipelines-{execution_id}-".encode()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        killed = 0
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                environ = (proc / "environ").read_bytes()
            except OSError:
                continue
            if marker in environ:
                os.kill(int(proc.name), signal.SIGKILL)
                killed += 1
        if killed:
            return killed
        time.sleep(0.1)
    raise TimeoutError(f"no training job process of {execution_arn} appeared within {timeout} s")
