"""Pipeline executions through boto3 against the endpoint: order, parallelism, failures, stop, retry."""

from __future__ import annotations

import json
import os
import time

import pytest
from botocore.exceptions import ClientError

from tests.support.pipelines import create_pipeline, processing_step, put_script, steps_by_name, wait_for

TIMESTAMP_SCRIPT = """
import json, os, pathlib, sys, time
started = time.time()
seen = sorted(os.listdir('/opt/ml/processing/input/data')) if os.path.isdir('/opt/ml/processing/input/data') else []
time.sleep(float(sys.argv[1]))
out = pathlib.Path('/opt/ml/processing/output/result')
out.mkdir(parents=True, exist_ok=True)
(out / 'result.json').write_text(json.dumps({'started': started, 'ended': time.time(), 'seen': seen,
                                               'who': os.environ.get('WHO'), 'args': sys.argv[1:]}))
"""


def _read_json(s3, bucket: str, key: str) -> dict:
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def _two_sleepers(s3, bucket: str, script: str) -> list[dict]:
    steps = []
    for who in ("a", "b"):
        s3.put_object(Bucket=bucket, Key=f"par/{script}/{who}/input.csv", Body=who.encode())
        steps.append(processing_step(
            f"Sleep-{who}", bucket, script, arguments=["1.5"], environment={"WHO": who},
            inputs={"data": f"s3://{bucket}/par/{script}/{who}/"},
            outputs={"result": f"s3://{bucket}/par/{script}/out-{who}"},
        ))
    return steps


def test_independent_steps_run_in_parallel_each_in_its_own_sandbox(sagemaker, s3, bucket) -> None:
    script = put_script(s3, bucket, TIMESTAMP_SCRIPT)
    name = create_pipeline(sagemaker, _two_sleepers(s3, bucket, script))
    arn = sagemaker.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    assert wait_for(sagemaker, arn)["PipelineExecutionStatus"] == "Succeeded"
    a = _read_json(s3, bucket, f"par/{script}/out-a/result.json")
    b = _read_json(s3, bucket, f"par/{script}/out-b/result.json")
    assert a["started"] < b["ended"] and b["started"] < a["ended"], "the two steps did not overlap"
    # Same container path, different sandboxes: each saw only its own input.
    assert (a["who"], a["seen"], b["who"], b["seen"]) == ("a", ["input.csv"], "b", ["input.csv"])
    assert a["args"] == ["1.5"]


def test_max_parallel_execution_steps_bounds_concurrency(sagemaker, s3, bucket) -> None:
    script = put_script(s3, bucket, TIMESTAMP_SCRIPT)
    name = create_pipeline(sagemaker, _two_sleepers(s3, bucket, script),
                           ParallelismConfiguration={"MaxParallelExecutionSteps": 1})
    arn = sagemaker.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    assert wait_for(sagemaker, arn)["PipelineExecutionStatus"] == "Succeeded"
    a = _read_json(s3, bucket, f"par/{script}/out-a/result.json")
    b = _read_json(s3, bucket, f"par/{script}/out-b/result.json")
    first, second = sorted([a, b], key=lambda r: r["started"])
    assert second["started"] >= first["ended"]


def test_dependent_step_reads_upstream_output_property(sagemaker, s3, bucket) -> None:
    writer = put_script(s3, bucket, "import pathlib; p = pathlib.Path('/opt/ml/processing/output/o'); "
                                    "p.mkdir(parents=True, exist_ok=True); (p / 'x.txt').write_text('hello')")
    reader = put_script(s3, bucket, "import pathlib, sys; t = pathlib.Path('/opt/ml/processing/input/up/x.txt').read_text(); "
                                    "p = pathlib.Path('/opt/ml/processing/output/o'); p.mkdir(parents=True, exist_ok=True); "
                                    "(p / 'y.txt').write_text(t + ' again')")
    steps = [
        processing_step("Write", bucket, writer, outputs={"o": f"s3://{bucket}/chain/{writer}/w"}),
        processing_step("Read", bucket, reader,
                        inputs={"up": {"Get": "Steps.Write.ProcessingOutputConfig.Outputs['o'].S3Output.S3Uri"}},
                        outputs={"o": {"Std:Join": {"On": "/", "Values": [f"s3://{bucket}/chain/{reader}", {"Get": "Execution.PipelineExecutionId"}]}}}),
    ]
    name = create_pipeline(sagemaker, steps)
    arn = sagemaker.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    assert wait_for(sagemaker, arn)["PipelineExecutionStatus"] == "Succeeded"
    execution_id = arn.rsplit("/", 1)[-1]
    assert s3.get_object(Bucket=bucket, Key=f"chain/{reader}/{execution_id}/y.txt")["Body"].read() == b"hello again"
    listed = steps_by_name(sagemaker, arn)
    assert listed["Write"]["EndTime"] <= listed["Read"]["StartTime"]
    job_arn = listed["Read"]["Metadata"]["ProcessingJob"]["Arn"]
    job = sagemaker.describe_processing_job(ProcessingJobName=job_arn.rsplit("/", 1)[-1])
    assert job["ProcessingJobStatus"] == "Completed"
    assert job["ProcessingInputs"][0]["S3Input"]["S3Uri"] == f"s3://{bucket}/chain/{writer}/w"


def test_crashing_script_fails_step_with_exit_code_and_log_tail(sagemaker, s3, bucket, endpoint_client) -> None:
    good = put_script(s3, bucket, "import pathlib; p = pathlib.Path('/opt/ml/processing/output/o'); "
                                  "p.mkdir(parents=True, exist_ok=True); (p / 'kept.txt').write_text('kept')")
    bad = put_script(s3, bucket, "import sys\nprint('reading the input')\nprint('boom: column price is missing', file=sys.stderr)\nsys.exit(3)")
    steps = [
        processing_step("First", bucket, good, outputs={"o": f"s3://{bucket}/crash/{good}"}),
        processing_step("Crash", bucket, bad, DependsOn=["First"]),
        processing_step("After", bucket, good, DependsOn=["Crash"]),
    ]
    name = create_pipeline(sagemaker, steps)
    arn = sagemaker.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    description = wait_for(sagemaker, arn)
    assert description["PipelineExecutionStatus"] == "Failed"
    assert "Crash" in description["FailureReason"]
    listed = steps_by_name(sagemaker, arn)
    assert set(listed) == {"First", "Crash"}, "a step after the failure ran"
    reason = listed["Crash"]["FailureReason"]
    assert "exited with code 3" in reason and "boom: column price is missing" in reason
    assert len(reason) <= 1024
    # What the earlier step wrote stays.
    assert s3.get_object(Bucket=bucket, Key=f"crash/{good}/kept.txt")["Body"].read() == b"kept"
    job = sagemaker.describe_processing_job(ProcessingJobName=listed["Crash"]["Metadata"]["ProcessingJob"]["Arn"].rsplit("/", 1)[-1])
    job_name = job["ProcessingJobName"]
    assert job["ProcessingJobStatus"] == "Failed" and "exited with code 3" in job["FailureReason"]
    logs = endpoint_client("logs")
    streams = logs.describe_log_streams(logGroupName="/aws/sagemaker/ProcessingJobs", logStreamNamePrefix=job_name + "/")["logStreams"]
    assert len(streams) == 1
    events = logs.get_log_events(logGroupName="/aws/sagemaker/ProcessingJobs", logStreamName=streams[0]["logStreamName"])["events"]
    assert "boom: column price is missing" in [event["message"] for event in events]


def test_missing_input_data_fails_step_naming_the_uri(sagemaker, s3, bucket) -> None:
    script = put_script(s3, bucket, "print('never runs')")
    missing = f"s3://{bucket}/nothing-here/ds=2024-01-01/"
    name = create_pipeline(sagemaker, [processing_step("Read", bucket, script, inputs={"data": missing})])
    arn = sagemaker.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    assert wait_for(sagemaker, arn)["PipelineExecutionStatus"] == "Failed"
    assert missing in steps_by_name(sagemaker, arn)["Read"]["FailureReason"]


def test_image_it_cannot_emulate_fails_naming_the_image(sagemaker, s3, bucket) -> None:
    script = put_script(s3, bucket, "print('never runs')")
    step = processing_step("Custom", bucket, script)
    step["Arguments"]["AppSpecification"]["ImageUri"] = "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-r-image:latest"
    name = create_pipeline(sagemaker, [step])
    arn = sagemaker.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    wait_for(sagemaker, arn)
    assert "my-r-image:latest" in steps_by_name(sagemaker, arn)["Custom"]["FailureReason"]


def test_stop_ends_running_step_processes(sagemaker, s3, bucket) -> None:
    pid_key = f"stop/{time.time_ns()}/pid"
    script = put_script(s3, bucket, f"""
import os, time, boto3
boto3.client('s3').put_object(Bucket='{bucket}', Key='{pid_key}', Body=str(os.getpid()).encode())
time.sleep(300)
""")
    name = create_pipeline(sagemaker, [processing_step("Sleep", bucket, script), processing_step("Later", bucket, script, DependsOn=["Sleep"])])
    arn = sagemaker.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    pid = None
    for _ in range(150):
        try:
            pid = int(s3.get_object(Bucket=bucket, Key=pid_key)["Body"].read())
            break
        except ClientError:
            time.sleep(0.2)
    assert pid, "the step never started"
    sagemaker.stop_pipeline_execution(PipelineExecutionArn=arn)
    assert sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"] in ("Stopping", "Stopped")
    assert wait_for(sagemaker, arn, timeout=30)["PipelineExecutionStatus"] == "Stopped"
    listed = steps_by_name(sagemaker, arn)
    assert listed["Sleep"]["StepStatus"] == "Stopped" and "Later" not in listed
    _assert_process_gone(pid)


def _assert_process_gone(pid: int) -> None:
    # The pid is the job's view inside its namespace or the host's; either way it must be gone.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            if b"script.py" not in handle.read():
                return
        time.sleep(0.2)
    pytest.fail(f"step process {pid} still runs after the stop")


def test_retry_reruns_from_the_failed_step(sagemaker, s3, bucket) -> None:
    flag = f"retry/{time.time_ns()}/ready"
    counter = put_script(s3, bucket, "import pathlib; p = pathlib.Path('/opt/ml/processing/output/o'); "
                                     "p.mkdir(parents=True, exist_ok=True); (p / 'x').write_text('1')")
    flaky = put_script(s3, bucket, f"""
import sys, boto3
try:
    boto3.client('s3').head_object(Bucket='{bucket}', Key='{flag}')
except Exception:
    sys.exit('input not ready yet')
""")
    name = create_pipeline(sagemaker, [processing_step("Prepare", bucket, counter, outputs={"o": f"s3://{bucket}/retry/{counter}"}),
                                       processing_step("Flaky", bucket, flaky, DependsOn=["Prepare"])])
    arn = sagemaker.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    assert wait_for(sagemaker, arn)["PipelineExecutionStatus"] == "Failed"
    s3.put_object(Bucket=bucket, Key=flag, Body=b"")
    assert sagemaker.retry_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionArn"] == arn
    assert wait_for(sagemaker, arn)["PipelineExecutionStatus"] == "Succeeded"
    listed = steps_by_name(sagemaker, arn)
    assert listed["Prepare"]["AttemptCount"] == 1 and listed["Flaky"]["AttemptCount"] == 2
    with pytest.raises(ClientError, match="only a Failed or Stopped execution"):
        sagemaker.retry_pipeline_execution(PipelineExecutionArn=arn)


def test_step_whose_job_request_is_malformed_fails_naming_the_field(sagemaker, s3, bucket) -> None:
    step = processing_step("Odd", bucket, put_script(s3, bucket, "print('never runs')"))
    step["Arguments"]["ProcessingInputs"][0]["S3Input"]["S3InputMode"] = "Stream"
    name = create_pipeline(sagemaker, [step])
    arn = sagemaker.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    assert wait_for(sagemaker, arn)["PipelineExecutionStatus"] == "Failed"
    reason = steps_by_name(sagemaker, arn)["Odd"]["FailureReason"]
    assert reason.startswith("ValidationException: 1 validation error detected: Value 'Stream' at "
                             "'processingInputs.1.member.s3Input.s3InputMode'")
