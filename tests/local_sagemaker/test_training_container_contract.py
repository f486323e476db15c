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
