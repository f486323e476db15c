"""What every job kind shares at run time: a sandbox, a log stream, a process, its verdict."""

from __future__ import annotations

import os
import secrets
import sys
import time
from pathlib import Path

from ...orphans import marker_environment
from ..errors import JobTimedOut, StepFailure
from ..job_process import CloudWatchStream, JobProcess, python_environment
from ..sandbox import JobCommand, Sandbox
from .lifecycle import JobRun, failure_reason


def image_repository(image_uri: str) -> str:
    """`123.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1` -> `sagemaker-xgboost`."""
    path = str(image_uri).split("/", 1)[-1]
    return path.split("@", 1)[0].split(":", 1)[0]


def log_stream_name(job: JobRun) -> str:
    """As SageMaker names a job's stream: `<job>/algo-1-<epoch>` (transform: `<job>/<instance id>-<epoch>`)."""
    host = f"i-{secrets.token_hex(8)}" if job.kind.key == "transform" else "algo-1"
    return f"{job.name}/{host}-{int(time.time())}"


class ContainerJob:
    """One job run the way its container would run it, in a sandbox standing for /opt/ml."""

    def __init__(self, job: JobRun) -> None:
        self.job = job
        self.name = job.name
        self.folder = job.folder
        self.sandbox = Sandbox(self.folder / "opt_ml")
        self.clients = job.context.clients
        self.process = JobProcess(
            self.folder / "job.log", CloudWatchStream(self.clients.logs, job.kind.log_group, log_stream_name(job)),
            preloaded=True,  # a job's script starts with its libraries imported; model servers start as they are
        )
        job.track(self.process)

    def log(self, line: str) -> None:
        self.process.log(line)

    def check_stopped(self) -> None:
        self.job.check_stopped()

    def run(self, argv: list[str], environment: dict[str, str], max_runtime: float | None) -> None:
        """Run the job's command; raise StepStopped or StepFailure (with the log's tail)."""
        self.check_stopped()
        exit_code = self.process.run(self.command(argv, environment), max_runtime)
        self.check_stopped()
        if self.process.timed_out:
            raise JobTimedOut(
                f"MaxRuntimeExceeded: job {self.name} ran longer than its "
                f"MaxRuntimeInSeconds ({max_runtime:g} s) and was ended"
            )
        if exit_code != 0:
            reason_file = self.sandbox.host_path("/opt/ml/output/failure")
            headline = f"AlgorithmError: job {self.name} exited with code {exit_code}."
            if reason_file.is_file() and reason_file.read_text().strip():
                headline += " " + reason_file.read_text().strip()[:400]
            raise StepFailure(failure_reason(headline, list(self.process.tail)))

    def command(self, argv: list[str], environment: dict[str, str]) -> JobCommand:
        """`argv` with its environment in the job's sandbox; logs how it is isolated."""
        env = sandboxed_environment(environment, self.clients.endpoint_url, self.job.context.region,
                                    self.job.context.work_dir)
        command = self.sandbox.command(argv, env)
        self.log(command.note)
        self.log(f"Running: {' '.join(argv)}")
        return command


def sandboxed_environment(environment: dict[str, str], endpoint_url: str, region: str, work_dir: Path) -> dict[str, str]:
    """The environment of a process the endpoint runs for a user (a job, a model server)."""
    return python_environment(
        {
            **environment,
            # Scripts that call AWS reach this endpoint, never real AWS.
            "AWS_ENDPOINT_URL": endpoint_url,
            "AWS_DEFAULT_REGION": region,
            "AWS_REGION": region,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            # Lets a later endpoint on this work dir find the process if this one dies (orphans.py).
            **marker_environment(work_dir),
        }
    )


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
