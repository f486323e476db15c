"""`python -m devtools.local_sagemaker` as a user runs it: ready line, SIGTERM ends jobs and itself."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest

from tests.support.pipelines import create_pipeline, processing_step, put_script, wait_for

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_server_prints_its_url_and_sigterm_ends_running_steps(tmp_path: Path) -> None:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "devtools.local_sagemaker", "--host", "127.0.0.1", "--port", str(port), "--work-dir", str(tmp_path)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        ready = server.stdout.readline()
        assert f"http://127.0.0.1:{port}" in ready
        url = f"http://127.0.0.1:{port}"
        s3 = boto3.client("s3", endpoint_url=url)
        sagemaker = boto3.client("sagemaker", endpoint_url=url)
        s3.create_bucket(Bucket="server-test")
        pid_file = tmp_path / "step.pid"
        script = put_script(s3, "server-test", f"import os, time\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\ntime.sleep(300)")
        name = create_pipeline(sagemaker, [processing_step("Sleep", "server-test", script)])
        sagemaker.start_pipeline_execution(PipelineName=name)
        deadline = time.monotonic() + 30
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert pid_file.exists(), "the step never started"
        # Mount and user namespaces share the host's pid space: this is the host pid.
        pid = int(pid_file.read_text())
        assert _is_running(pid)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
        deadline = time.monotonic() + 10
        while _is_running(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _is_running(pid), "the step process outlived the endpoint"
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert "Stopping the local SageMaker endpoint" in server.stdout.read()


def _is_running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("given_by", ["flag", "environment"])
def test_startup_delay_keeps_steps_starting_after_the_start_call_answered(tmp_path: Path, given_by: str) -> None:
    port = _free_port()
    command = [sys.executable, "-m", "devtools.local_sagemaker", "--port", str(port), "--work-dir", str(tmp_path)]
    env = dict(os.environ)
    if given_by == "flag":
        command += ["--step-startup-delay", "120"]
    else:
        env["LOCAL_SAGEMAKER_STEP_STARTUP_DELAY"] = "120"
    server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        assert f"http://127.0.0.1:{port}" in server.stdout.readline()
        sagemaker = boto3.client("sagemaker", endpoint_url=f"http://127.0.0.1:{port}")
        name = create_pipeline(sagemaker, [{"Name": "Gate", "Type": "Condition", "Arguments": {
            "Conditions": [{"Type": "Equals", "LeftValue": 1, "RightValue": 1}]}}])
        arn = sagemaker.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
        assert sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"] == "Executing"
        deadline = time.monotonic() + 30
        steps: list = []
        while not steps and time.monotonic() < deadline:
            steps = sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
            time.sleep(0.1)
        assert [(s["StepName"], s["StepStatus"]) for s in steps] == [("Gate", "Starting")]
        # A stop cuts the start-up short, as it ends a job that is still starting on AWS.
        sagemaker.stop_pipeline_execution(PipelineExecutionArn=arn)
        assert wait_for(sagemaker, arn, timeout=30)["PipelineExecutionStatus"] == "Stopped"
        step = sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"][0]
        assert step["StepStatus"] == "Stopped"
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def test_negative_startup_delay_is_refused_naming_the_flag(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "devtools.local_sagemaker", "--port", "0", "--step-startup-delay", "-1"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "--step-startup-delay must be 0 or more seconds" in result.stderr
