"""What processing and training jobs share: a sandbox, a log stream, a process, its verdict."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from ..errors import StepFailure, StepStopped
from ..job_process import CloudWatchStream, JobProcess, python_environment
from ..sandbox import Sandbox
from .runtime import StepRuntime, failure_reason


def image_repository(image_uri: str) -> str:
    """`123.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1` -> `sagemaker-xgboost`."""
    path = str(image_uri).split("/", 1)[-1]
    return path.split("@", 1)[0].split(":", 1)[0]


class ContainerJob:
    """One job run the way its container would run it, in a sandbox standing for /opt/ml."""

    def __init__(self, runtime: StepRuntime, job_name: str, log_group: str) -> None:
        self.runtime = runtime
        self.name = job_name
        self.folder = runtime.work_dir / "jobs" / job_name
        self.sandbox = Sandbox(self.folder / "opt_ml")
        stream = f"{job_name}/algo-1-{int(time.time())}"
        self.process = JobProcess(
            self.folder / "job.log", CloudWatchStream(runtime.clients.logs, log_group, stream)
        )
        runtime.track(self.process)

    def log(self, line: str) -> None:
        self.process.log(line)

    def check_stopped(self) -> None:
        if self.process.was_stopped:
            raise StepStopped(f"Job {self.name} was stopped")

    def run(self, argv: list[str], environment: dict[str, str], max_runtime: float | None) -> None:
        """Run the job's command; raise StepStopped or StepFailure (with the log's tail)."""
        self.check_stopped()
        env = python_environment(
            {
                **environment,
                # Scripts that call AWS reach this endpoint, never real AWS.
                "AWS_ENDPOINT_URL": self.runtime.clients.endpoint_url,
                "AWS_DEFAULT_REGION": self.runtime.region,
                "AWS_REGION": self.runtime.region,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
            }
        )
        command, env, note = self.sandbox.command(argv, env)
        self.log(note)
        self.log(f"Running: {' '.join(argv)}")
        exit_code = self.process.run(command, env, self.sandbox.root, max_runtime)
        self.check_stopped()
        if self.process.timed_out:
            raise StepFailure(
                f"MaxRuntimeExceeded: job {self.name} ran longer than its "
                f"MaxRuntimeInSeconds ({max_runtime:g} s) and was ended"
            )
        if exit_code != 0:
            reason_file = self.sandbox.host_path("/opt/ml/output/failure")
            headline = f"AlgorithmError: job {self.name} exited with code {exit_code}."
            if reason_file.is_file() and reason_file.read_text().strip():
                headline += " " + reason_file.read_text().strip()[:400]
            raise StepFailure(failure_reason(headline, list(self.process.tail)))


def python_command(entrypoint: list[str]) -> list[str]:
    """Run the container's Python entrypoint with this interpreter, which has the packages."""
    program = os.path.basename(entrypoint[0])
    if program.startswith("python"):
        return [sys.executable, *entrypoint[1:]]
    return list(entrypoint)


def host_path_or_fail(sandbox: Sandbox, container_path: str, field: str) -> Path:
    try:
        return sandbox.host_path(container_path)
    except ValueError as error:
        raise StepFailure(f"{field}: {error}") from None
