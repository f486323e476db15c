"""What a training container finds and what becomes of its output: /opt/ml/input/config as SageMaker
writes it (so SDK v3's ModelTrainer(source_code=...) driver runs), and a job log whatever the script prints."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.pipelines import ROLE, SKLEARN_IMAGE, unique

from .test_standalone_jobs import _csv, training_request, wait_job


@pytest.fixture(scope="module")
def plain_sdk_session(boto_session: Any, bucket: str) -> Any:
    """SDK v3's Session (jobs run at once, unlike a PipelineSession) bound to the endpoint."""
    from devtools.pipeline_compiler.sdk_session import disable_sdk_side_effects

    disable_sdk_side_effects(boto_session.region_name)
    from sagemaker.core.helper.session_helper import Session

    sdk = Session(boto_session=boto_session, sagemaker_client=boto_session.client("sagemaker"), default_bucket=bucket)
    sdk._default_bucket = bucket  # given and existing: no bucket lookup
    return sdk


def training_job_log(endpoint_client: Any, name: str) -> list[str]:
    logs = endpoint_client("logs")
    group = "/aws/sagemaker/TrainingJobs"
    stream = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix=f"{name}/")["logStreams"][0]["logStreamName"]
    return [event["message"] for event in logs.get_log_events(logGroupName=group, logStreamName=stream)["events"]]


def entrypoint_job(bucket: str, prefix: str, name: str, code: str, **resource_config: Any) -> dict[str, Any]:
    """A training job whose container runs `python3 -c code`."""
    request = training_request(bucket, prefix, name)
    request["AlgorithmSpecification"] = {"TrainingImage": SKLEARN_IMAGE, "TrainingInputMode": "File",
                                         "ContainerEntrypoint": ["python3", "-c", code]}
    request["HyperParameters"] = {}
    if resource_config:
        request["ResourceConfig"] = resource_config
    return request


PRINT_RESOURCE_CONFIG = "import pathlib; print('CONFIG=' + pathlib.Path('/opt/ml/input/config/resourceconfig.json').read_text())"


@pytest.mark.parametrize(
    ("resource_config", "group", "instance_type"),
    [
        ({"InstanceType": "ml.c5.2xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10}, "homogeneousCluster", "ml.c5.2xlarge"),
        ({"InstanceGroups": [{"InstanceGroupName": "trainers", "InstanceType": "ml.m5.xlarge", "InstanceCount": 1}],
          "VolumeSizeInGB": 10}, "trainers", "ml.m5.xlarge"),
    ],
    ids=["instance-type", "instance-groups"],
)
def test_resourceconfig_json_has_every_field_sagemaker_writes(sagemaker, s3, bucket, endpoint_client,
                                                              resource_config: dict[str, Any], group: str,
                                                              instance_type: str) -> None:
    prefix = unique("resourceconfig")
    s3.put_object(Bucket=bucket, Key=f"{prefix}/train/train.csv", Body=b"1,2\n")
    name = unique("resourceconfig")
    sagemaker.create_training_job(**entrypoint_job(bucket, prefix, name, PRINT_RESOURCE_CONFIG, **resource_config))
    job = wait_job(lambda: sagemaker.describe_training_job(TrainingJobName=name), "TrainingJobStatus")
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    [line] = [line for line in training_job_log(endpoint_client, name) if line.startswith("CONFIG=")]
    assert json.loads(line.removeprefix("CONFIG=")) == {
        "current_host": "algo-1",
        "hosts": ["algo-1"],
        "current_instance_type": instance_type,
        "current_group_name": group,
        "instance_groups": [{"instance_group_name": group, "instance_type": instance_type, "hosts": ["algo-1"]}],
        "network_interface_name": "eth0",
    }


def test_model_trainer_with_source_code_runs_the_sdk_container_driver(plain_sdk_session, s3, bucket, endpoint_client,
                                                                      tmp_path: Path) -> None:
    from sagemaker.train.configs import Compute, InputData, OutputDataConfig, SourceCode
    from sagemaker.train.model_trainer import ModelTrainer

    prefix = unique("source-code")
    s3.put_object(Bucket=bucket, Key=f"{prefix}/train/train.csv", Body=_csv(50, 21))
    (tmp_path / "train.py").write_text(
        "import os, pathlib\n"
        "rows = pathlib.Path(os.environ['SM_CHANNEL_TRAIN'], 'train.csv').read_text().splitlines()\n"
        "print(f\"instance {os.environ['SM_CURRENT_INSTANCE_TYPE']} read {len(rows)} rows\")\n"
        "pathlib.Path(os.environ['SM_MODEL_DIR'], 'rows.txt').write_text(str(len(rows)))\n")
    trainer = ModelTrainer(
        training_image=SKLEARN_IMAGE, role=ROLE, base_job_name="source-code", sagemaker_session=plain_sdk_session,
        source_code=SourceCode(source_dir=str(tmp_path), entry_script="train.py"),
        compute=Compute(instance_type="ml.m5.large", instance_count=1),
        output_data_config=OutputDataConfig(s3_output_path=f"s3://{bucket}/{prefix}/out"),
    )
    trainer.train(input_data_config=[InputData(channel_name="train", data_source=f"s3://{bucket}/{prefix}/train")],
                  wait=False, logs=False)
    name = trainer._latest_training_job.training_job_name
    sagemaker = plain_sdk_session.sagemaker_client
    job = wait_job(lambda: sagemaker.describe_training_job(TrainingJobName=name), "TrainingJobStatus")
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert "instance ml.m5.large read 50 rows" in training_job_log(endpoint_client, name)


# --- the job's log -------------------------------------------------------------------------------
def test_empty_lines_in_a_jobs_output_do_not_hide_the_scripts_own_error(sagemaker, s3, bucket, endpoint_client) -> None:
    prefix = unique("empty-lines")
    s3.put_object(Bucket=bucket, Key=f"{prefix}/train/train.csv", Body=b"1,2\n")
    name = unique("empty-lines")
    code = "print('before'); print(); print(''); print('after', flush=True); raise SystemExit('the script says no')"
    sagemaker.create_training_job(**entrypoint_job(bucket, prefix, name, code))
    job = wait_job(lambda: sagemaker.describe_training_job(TrainingJobName=name), "TrainingJobStatus")
    assert job["TrainingJobStatus"] == "Failed"
    assert job["FailureReason"].startswith(f"AlgorithmError: job {name} exited with code 1.")
    assert "the script says no" in job["FailureReason"] and "InternalError" not in job["FailureReason"]
    lines = training_job_log(endpoint_client, name)
    assert lines[lines.index("before"):lines.index("after") + 1] == ["before", "after"]  # Logs takes no empty event


class RefusingLogs:
    """A CloudWatch Logs client whose PutLogEvents always fails."""

    class exceptions:  # boto3 clients name their exception classes so
        ResourceAlreadyExistsException = KeyError

    def __init__(self) -> None:
        self.sent: list[list[dict[str, Any]]] = []

    def create_log_group(self, **_: Any) -> None: ...

    def create_log_stream(self, **_: Any) -> None: ...

    def put_log_events(self, **request: Any) -> None:
        self.sent.append(request["logEvents"])
        raise RuntimeError("Rate exceeded")


def test_a_log_upload_failure_is_noted_in_the_log_file_and_never_raised(tmp_path: Path) -> None:
    from devtools.local_sagemaker.engine.job_process import CloudWatchStream, JobProcess

    logs = RefusingLogs()
    process = JobProcess(tmp_path / "job.log", CloudWatchStream(logs, "/aws/sagemaker/TrainingJobs", "job/algo-1"))
    for line in ("one", "", "two"):
        process.log(line)
    process.cloudwatch.flush()  # type: ignore[union-attr]
    assert [[event["message"] for event in batch] for batch in logs.sent] == [["one", "two"]]
    assert (tmp_path / "job.log").read_text().splitlines() == [
        "one", "", "two",
        "[local endpoint] 2 line(s) not sent to CloudWatch Logs /aws/sagemaker/TrainingJobs/job/algo-1: "
        "RuntimeError: Rate exceeded"]


def test_log_lines_over_cloudwatchs_limits_are_cut_into_events_and_batches_it_takes() -> None:
    from devtools.local_sagemaker.engine.job_process import MAX_BATCH_BYTES, MAX_EVENT_BYTES, _batches, log_events

    assert log_events("", 1) == []
    line = "é" * MAX_EVENT_BYTES  # 2 bytes a character: the cuts fall between characters
    events = log_events(line, 1)
    assert "".join(event["message"] for event in events) == line
    assert all(0 < len(event["message"].encode()) <= MAX_EVENT_BYTES for event in events)
    batches = list(_batches(log_events("x" * MAX_EVENT_BYTES, 1) * 5))
    assert [len(batch) for batch in batches] == [4, 1]
    assert all(sum(len(e["message"]) + 26 for e in batch) <= MAX_BATCH_BYTES for batch in batches)
