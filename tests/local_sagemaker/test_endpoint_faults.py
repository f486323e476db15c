"""An endpoint that dies (SIGKILL) loses nothing it acknowledged, leaves no process behind, fails what was running.

Issue 11: a SIGKILLed endpoint left its step's process running and its work dir in /tmp, and a
restart forgot everything. Each test kills a real endpoint process and inspects /proc, the work
dir and a restarted endpoint.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

from devtools.local_sagemaker.orphans import marked_processes
from tests.support.pipelines import create_pipeline, processing_step, put_script, steps_by_name, wait_for

from .endpoint_process import process_alive, processes_whose_cmdline_has, run_endpoint, wait_until
from .test_standalone_jobs import processing_request

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc, PR_SET_PDEATHSIG: Linux only")

BUCKET = "fault-data"
DEATH_TIMEOUT_SECONDS = 30


def _work_dir_of(ready_line: str) -> Path:
    return Path(re.search(r"\(work dir ([^;)]+)", ready_line).group(1))


def test_sigkill_ends_the_step_and_its_children_and_a_retry_after_restart_succeeds(tmp_path: Path,
                                                                                   endpoint_processes: Any) -> None:
    work_dir, pid_file, resume = tmp_path / "work", tmp_path / "step.pids", tmp_path / "resume"
    token = f"orphan-check-{uuid.uuid4().hex}"
    first = endpoint_processes("--work-dir", str(work_dir))
    s3, sagemaker = first.client("s3"), first.client("sagemaker")
    s3.create_bucket(Bucket=BUCKET)
    evaluate = put_script(s3, BUCKET, "import json\njson.dump({'threshold': 0.75}, "
                                      "open('/opt/ml/processing/output/report/report.json', 'w'))")
    # Until `resume` exists the step sleeps, with a child of its own; then it writes what it read from Evaluate.
    sleep = put_script(s3, BUCKET, f"""import os, subprocess, sys, time
if os.path.exists({str(resume)!r}):
    open('/opt/ml/processing/output/seen/threshold.txt', 'w').write(os.environ['THRESHOLD'])
    sys.exit(0)
child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', {token!r}])
open({str(pid_file)!r}, 'w').write(f'{{os.getpid()}} {{child.pid}}')
time.sleep(600)
""")
    threshold = {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.Report"}, "Path": "threshold"}}
    pipeline = create_pipeline(sagemaker, [
        processing_step("Evaluate", BUCKET, evaluate, outputs={"report": f"s3://{BUCKET}/report"},
                        PropertyFiles=[{"PropertyFileName": "Report", "OutputName": "report", "FilePath": "report.json"}]),
        processing_step("Sleep", BUCKET, sleep, outputs={"seen": f"s3://{BUCKET}/seen"},
                        environment={"THRESHOLD": threshold}),
    ])
    execution = sagemaker.start_pipeline_execution(PipelineName=pipeline)["PipelineExecutionArn"]
    wait_until(pid_file.exists, 60, "the Sleep step never started")
    pids = [int(pid) for pid in pid_file.read_text().split()]
    assert all(process_alive(pid) for pid in pids)

    first.kill()
    wait_until(lambda: not any(process_alive(pid) for pid in pids), DEATH_TIMEOUT_SECONDS,
               f"job processes {pids} outlived the SIGKILLed endpoint")
    assert processes_whose_cmdline_has(token) == []
    # Nor the process the job was forked from (preloaded_python.py), which carries the work dir's marker.
    wait_until(lambda: not [pid for pid in marked_processes(work_dir) if process_alive(pid)], DEATH_TIMEOUT_SECONDS,
               "a process of the SIGKILLed endpoint's work dir outlived it")

    resume.write_text("go")
    second = endpoint_processes("--work-dir", str(work_dir))
    sagemaker, s3 = second.client("sagemaker"), second.client("s3")
    described = sagemaker.describe_pipeline_execution(PipelineExecutionArn=execution)
    assert described["PipelineExecutionStatus"] == "Failed"
    assert described["FailureReason"].startswith("endpoint restarted")
    steps = steps_by_name(sagemaker, execution)
    assert steps["Evaluate"]["StepStatus"] == "Succeeded"
    assert (steps["Sleep"]["StepStatus"], steps["Sleep"]["FailureReason"][:18]) == ("Failed", "endpoint restarted")
    job = sagemaker.describe_processing_job(
        ProcessingJobName=steps["Sleep"]["Metadata"]["ProcessingJob"]["Arn"].rsplit("/", 1)[-1])
    assert (job["ProcessingJobStatus"], job["FailureReason"][:18]) == ("Failed", "endpoint restarted")

    sagemaker.retry_pipeline_execution(PipelineExecutionArn=execution, ClientRequestToken=uuid.uuid4().hex)
    assert wait_for(sagemaker, execution)["PipelineExecutionStatus"] == "Succeeded"
    steps = steps_by_name(sagemaker, execution)
    assert (steps["Evaluate"]["AttemptCount"], steps["Sleep"]["AttemptCount"]) == (1, 2)
    # The retried step read Evaluate's property file from before the restart (Evaluate did not run again).
    assert s3.get_object(Bucket=BUCKET, Key="seen/threshold.txt")["Body"].read() == b"0.75"
    assert second.stop() == 0


def test_a_killed_endpoints_temporary_work_dir_is_removed(endpoint_processes: Any) -> None:
    first = endpoint_processes()
    first_dir = _work_dir_of(first.ready_line)
    assert first_dir.is_dir()
    first.kill()
    wait_until(lambda: not first_dir.exists(), DEATH_TIMEOUT_SECONDS, f"{first_dir} outlived its SIGKILLed endpoint")

    # Endpoint and watcher killed at once (an OOM kill of both): the next endpoint's start removes the dir.
    second = endpoint_processes()
    second_dir = _work_dir_of(second.ready_line)
    watchers = [pid for pid in processes_whose_cmdline_has(str(second_dir)) if pid != second.process.pid]
    assert len(watchers) == 1, f"expected one watcher of {second_dir}, found {watchers}"
    os.kill(watchers[0], signal.SIGKILL)
    second.kill()
    wait_until(lambda: not process_alive(watchers[0]), DEATH_TIMEOUT_SECONDS, "the watcher did not die")
    assert second_dir.is_dir()
    endpoint_processes()
    assert not second_dir.exists()


def test_a_second_endpoint_on_a_work_dir_in_use_is_refused(tmp_path: Path, endpoint_processes: Any) -> None:
    running = endpoint_processes("--work-dir", str(tmp_path))
    refused = run_endpoint("--work-dir", str(tmp_path))
    assert refused.returncode == 1
    assert f"work dir {tmp_path} is in use by another local SageMaker endpoint (pid {running.process.pid})" in refused.stderr


def test_every_acknowledged_put_survives_a_sigkill_during_concurrent_writes(tmp_path: Path,
                                                                           endpoint_processes: Any) -> None:
    first = endpoint_processes("--work-dir", str(tmp_path))
    first.client("s3").create_bucket(Bucket=BUCKET)
    acknowledged: dict[str, bytes] = {}
    lock = threading.Lock()

    def put_until_refused(writer: int) -> None:
        s3 = first.client("s3")
        for number in range(10_000):
            key, body = f"writer-{writer}/{number}", uuid.uuid4().bytes * 64
            try:
                s3.put_object(Bucket=BUCKET, Key=key, Body=body)
            except Exception:
                return  # the endpoint is gone
            with lock:
                acknowledged[key] = body

    writers = [threading.Thread(target=put_until_refused, args=(number,), daemon=True) for number in range(4)]
    for writer in writers:
        writer.start()
    wait_until(lambda: len(acknowledged) >= 200, 120, "the writers made no progress")
    first.kill()
    for writer in writers:
        writer.join(60)
    second = endpoint_processes("--work-dir", str(tmp_path))
    s3 = second.client("s3")
    with lock:
        expected = dict(acknowledged)
    for key, body in expected.items():
        assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == body, key


def _corrupt_garbage(state: Path) -> str:
    (state / "s3.state").write_bytes(b"\x00\x01 not a state file")
    return "it is not a state file of the local endpoint"


def _corrupt_truncated(state: Path) -> str:
    content = (state / "s3.state").read_bytes()
    (state / "s3.state").write_bytes(content[: len(content) // 2])
    return "its data cannot be read"


def _corrupt_other_moto(state: Path) -> str:
    header, _, payload = (state / "s3.state").read_bytes().partition(b"\n")
    (state / "s3.state").write_bytes(json.dumps({**json.loads(header), "moto": "4.0.0"}).encode() + b"\n" + payload)
    return "it was written with moto '4.0.0'"


def _corrupt_missing_body(state: Path) -> str:
    for body in (state / "s3-bodies").iterdir():
        body.unlink()
    return "s3://fault-data/object.txt"


@pytest.mark.parametrize("corrupt", [_corrupt_garbage, _corrupt_truncated, _corrupt_other_moto, _corrupt_missing_body])
def test_a_state_that_cannot_be_restored_is_refused_naming_the_file_and_fresh_starts_empty(
        tmp_path: Path, endpoint_processes: Any, corrupt: Any) -> None:
    first = endpoint_processes("--work-dir", str(tmp_path))
    first.client("s3").create_bucket(Bucket=BUCKET)
    first.client("s3").put_object(Bucket=BUCKET, Key="object.txt", Body=b"kept")
    assert first.stop() == 0
    state = tmp_path / "state"
    problem = corrupt(state)

    refused = run_endpoint("--work-dir", str(tmp_path))
    assert refused.returncode == 1
    assert f"Cannot restore the local endpoint's saved state from {state / 's3.state'}" in refused.stderr
    assert problem in refused.stderr and "start with --fresh" in refused.stderr
    assert not processes_whose_cmdline_has(str(tmp_path)), "a refused start left a process behind"

    fresh = endpoint_processes("--work-dir", str(tmp_path), "--fresh")
    assert [bucket["Name"] for bucket in fresh.client("s3").list_buckets()["Buckets"]] == []
    discarded = list(tmp_path.glob("state-discarded-*"))
    assert len(discarded) == 1 and (discarded[0] / "s3.state").exists(), "--fresh must keep the old state aside"
    assert str(discarded[0]) in fresh.ready_line


@pytest.mark.parametrize("size", [64 * 1024, 12 * 1024 * 1024])
def test_a_stalled_upload_holds_no_other_change_back(tmp_path: Path, endpoint_processes: Any, size: int) -> None:
    """A change waits for a snapshot, which waits for the changes in flight: a half-sent body must not be one."""
    endpoint = endpoint_processes("--work-dir", str(tmp_path))
    s3 = endpoint.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    stalled = http.client.HTTPConnection("127.0.0.1", endpoint.port, timeout=60)
    stalled.putrequest("PUT", f"/{BUCKET}/stalled.bin")
    stalled.putheader("Content-Length", str(size))
    stalled.endheaders()
    stalled.send(b"x" * (size // 4))
    other = threading.Thread(target=s3.put_object, kwargs={"Bucket": BUCKET, "Key": "other.txt", "Body": b"done"})
    other.start()
    other.join(60)
    assert not other.is_alive(), "a PutObject waited for another client's unfinished upload"
    stalled.send(b"x" * (size - size // 4))
    assert stalled.getresponse().status == 200
    assert s3.head_object(Bucket=BUCKET, Key="stalled.bin")["ContentLength"] == size


def test_a_stopping_execution_comes_back_stopped_and_a_running_standalone_job_failed(
        tmp_path: Path, endpoint_processes: Any) -> None:
    work_dir, pid_file = tmp_path / "work", tmp_path / "step.pid"
    first = endpoint_processes("--work-dir", str(work_dir))
    s3, sagemaker = first.client("s3"), first.client("sagemaker")
    s3.create_bucket(Bucket=BUCKET)
    # Ignores SIGTERM: the stop waits out its grace period, so the execution stays Stopping meanwhile.
    stubborn = put_script(s3, BUCKET, f"import os, signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                                      f"open({str(pid_file)!r}, 'w').write(str(os.getpid()))\ntime.sleep(600)")
    sleeper = put_script(s3, BUCKET, "import time\ntime.sleep(600)")
    execution = sagemaker.start_pipeline_execution(
        PipelineName=create_pipeline(sagemaker, [processing_step("Stubborn", BUCKET, stubborn)]))["PipelineExecutionArn"]
    sagemaker.create_processing_job(**processing_request(BUCKET, sleeper, "standalone-sleeper"))
    wait_until(pid_file.exists, 60, "the Stubborn step never started")
    wait_until(lambda: sagemaker.describe_processing_job(ProcessingJobName="standalone-sleeper")["ProcessingJobStatus"]
               == "InProgress", 60, "the standalone job is not running")
    # StopPipelineExecution answers once the step's process is gone: the kill comes while it waits.
    def stop() -> None:
        with contextlib.suppress(Exception):  # the endpoint dies before it answers
            first.client("sagemaker").stop_pipeline_execution(PipelineExecutionArn=execution)

    threading.Thread(target=stop, daemon=True).start()
    wait_until(lambda: sagemaker.describe_pipeline_execution(PipelineExecutionArn=execution)["PipelineExecutionStatus"]
               == "Stopping", 60, "the execution never showed Stopping")
    sagemaker.create_experiment(ExperimentName="saved-after-stopping")  # answers once a later snapshot is written
    first.kill()

    second = endpoint_processes("--work-dir", str(work_dir))
    sagemaker = second.client("sagemaker")
    described = sagemaker.describe_pipeline_execution(PipelineExecutionArn=execution)
    assert described["PipelineExecutionStatus"] == "Stopped" and "FailureReason" not in described
    assert steps_by_name(sagemaker, execution)["Stubborn"]["StepStatus"] == "Stopped"
    job = sagemaker.describe_processing_job(ProcessingJobName="standalone-sleeper")
    assert (job["ProcessingJobStatus"], job["FailureReason"][:18]) == ("Failed", "endpoint restarted")
    assert "ProcessingEndTime" in job
