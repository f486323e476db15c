"""CreateProcessingJob, CreateTrainingJob and CreateTransformJob run for real, with AWS's lifecycle."""

from __future__ import annotations

import io
import json
import tarfile
import time
from typing import Any

import numpy as np
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.support.pipelines import ROLE, SKLEARN_IMAGE, XGBOOST_IMAGE, put_script, unique

TERMINAL = ("Completed", "Failed", "Stopped")


def wait_job(describe: Any, status_field: str, timeout: float = 120, statuses: tuple[str, ...] = TERMINAL) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = describe()
        if job[status_field] in statuses:
            return job
        if time.monotonic() > deadline:
            raise TimeoutError(f"job still {job[status_field]} after {timeout} s")
        time.sleep(0.2)


def processing_request(bucket: str, script: str, name: str, inputs: dict[str, str] | None = None,
                       outputs: dict[str, str] | None = None, image: str = SKLEARN_IMAGE) -> dict[str, Any]:
    return {
        "ProcessingJobName": name,
        "RoleArn": ROLE,
        "AppSpecification": {"ImageUri": image, "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/script.py"]},
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 5}},
        "ProcessingInputs": [
            {"InputName": "code", "S3Input": {"S3Uri": f"s3://{bucket}/{script}", "LocalPath": "/opt/ml/processing/input/code",
                                              "S3DataType": "S3Prefix", "S3InputMode": "File"}},
            *({"InputName": input_name, "S3Input": {"S3Uri": uri, "LocalPath": f"/opt/ml/processing/input/{input_name}",
                                                    "S3DataType": "S3Prefix", "S3InputMode": "File"}}
              for input_name, uri in (inputs or {}).items()),
        ],
        "ProcessingOutputConfig": {"Outputs": [
            {"OutputName": output_name, "S3Output": {"S3Uri": uri, "LocalPath": f"/opt/ml/processing/output/{output_name}",
                                                     "S3UploadMode": "EndOfJob"}}
            for output_name, uri in (outputs or {}).items()]},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }


def processing_job_log(endpoint_client: Any, name: str) -> list[str]:
    """The lines of a processing job's CloudWatch log stream."""
    logs = endpoint_client("logs")
    stream = logs.describe_log_streams(logGroupName="/aws/sagemaker/ProcessingJobs",
                                       logStreamNamePrefix=f"{name}/")["logStreams"][0]["logStreamName"]
    return [event["message"] for event in
            logs.get_log_events(logGroupName="/aws/sagemaker/ProcessingJobs", logStreamName=stream)["events"]]


def _csv(rows: int, seed: int, label: bool = True) -> bytes:
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(rows, 4))
    target = (features[:, 0] + 0.5 * features[:, 1] > 0).astype(int)
    values = np.column_stack([target, features]) if label else features
    buffer = io.StringIO()
    np.savetxt(buffer, values, delimiter=",", fmt="%.5f")
    return buffer.getvalue().encode()


def training_request(bucket: str, prefix: str, name: str, hyperparameters: dict[str, str] | None = None,
                     image: str = XGBOOST_IMAGE) -> dict[str, Any]:
    return {
        "TrainingJobName": name,
        "RoleArn": ROLE,
        "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File"},
        "HyperParameters": hyperparameters or {"objective": "binary:logistic", "num_round": "10", "max_depth": "3"},
        "InputDataConfig": [{"ChannelName": "train", "ContentType": "text/csv", "DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/{prefix}/train", "S3DataDistributionType": "FullyReplicated"}}}],
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/{prefix}/model"},
        "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }


def test_processing_job_runs_for_real_with_aws_lifecycle_logs_and_trial_component(sagemaker, s3, bucket, endpoint_client) -> None:
    script = put_script(s3, bucket, "import pathlib\nrows = pathlib.Path('/opt/ml/processing/input/data/in.csv').read_text().splitlines()\n"
                                    "print(f'read {len(rows)} rows')\nout = pathlib.Path('/opt/ml/processing/output/result')\n"
                                    "(out / 'count.txt').write_text(str(len(rows)))\n")
    s3.put_object(Bucket=bucket, Key=f"{script}-data/in.csv", Body=b"a\nb\nc\n")
    name = unique("processing")
    output = f"s3://{bucket}/{script}-out"
    arn = sagemaker.create_processing_job(**processing_request(
        bucket, script, name, inputs={"data": f"s3://{bucket}/{script}-data/"}, outputs={"result": output}))["ProcessingJobArn"]
    assert arn.endswith(f":processing-job/{name}")
    assert sagemaker.describe_processing_job(ProcessingJobName=name)["ProcessingJobStatus"] in ("InProgress", "Completed")
    job = wait_job(lambda: sagemaker.describe_processing_job(ProcessingJobName=name), "ProcessingJobStatus")
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    assert job["CreationTime"] <= job["ProcessingStartTime"] <= job["ProcessingEndTime"]
    assert s3.get_object(Bucket=bucket, Key=f"{script}-out/count.txt")["Body"].read() == b"3"
    streams = endpoint_client("logs").describe_log_streams(logGroupName="/aws/sagemaker/ProcessingJobs", logStreamNamePrefix=f"{name}/")["logStreams"]
    assert len(streams) == 1 and streams[0]["logStreamName"].startswith(f"{name}/algo-1-")
    events = endpoint_client("logs").get_log_events(logGroupName="/aws/sagemaker/ProcessingJobs", logStreamName=streams[0]["logStreamName"])["events"]
    assert "read 3 rows" in [event["message"] for event in events]
    component = sagemaker.describe_trial_component(TrialComponentName=f"{name}-aws-processing-job")
    assert component["Source"]["SourceArn"] == arn and component["Status"]["PrimaryStatus"] == "Completed"
    listed = sagemaker.list_processing_jobs(NameContains=name)["ProcessingJobSummaries"]
    assert [(j["ProcessingJobName"], j["ProcessingJobStatus"]) for j in listed] == [(name, "Completed")]


@pytest.mark.parametrize(("environment", "expected"), [({}, "PASSIVE"), ({"OMP_WAIT_POLICY": "ACTIVE"}, "ACTIVE")])
def test_a_jobs_openmp_threads_wait_passively_unless_its_environment_says_otherwise(
        sagemaker, s3, bucket, endpoint_client, environment: dict[str, str], expected: str) -> None:
    script = put_script(s3, bucket, "import os\nprint('OMP_WAIT_POLICY=' + os.environ.get('OMP_WAIT_POLICY', '-'))\n")
    name = unique("openmp")
    sagemaker.create_processing_job(**processing_request(bucket, script, name), Environment=environment)
    job = wait_job(lambda: sagemaker.describe_processing_job(ProcessingJobName=name), "ProcessingJobStatus")
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    assert f"OMP_WAIT_POLICY={expected}" in processing_job_log(endpoint_client, name)


def test_training_job_walks_the_secondary_statuses_and_writes_the_model(sagemaker, s3, bucket, endpoint_client) -> None:
    prefix = unique("training")
    s3.put_object(Bucket=bucket, Key=f"{prefix}/train/train.csv", Body=_csv(300, 1))
    name = unique("train")
    sagemaker.create_training_job(**training_request(bucket, prefix, name))
    job = wait_job(lambda: sagemaker.describe_training_job(TrainingJobName=name), "TrainingJobStatus")
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert [t["Status"] for t in job["SecondaryStatusTransitions"]] == ["Starting", "Downloading", "Training", "Uploading", "Completed"]
    assert all("EndTime" in t for t in job["SecondaryStatusTransitions"])
    assert job["SecondaryStatus"] == "Completed" and job["BillableTimeInSeconds"] >= 1
    artifacts = job["ModelArtifacts"]["S3ModelArtifacts"]
    assert artifacts == f"s3://{bucket}/{prefix}/model/{name}/output/model.tar.gz"
    with tarfile.open(fileobj=io.BytesIO(s3.get_object(Bucket=bucket, Key=artifacts.split(f"{bucket}/", 1)[1])["Body"].read())) as bundle:
        assert bundle.getnames() == ["xgboost-model"]
    streams = endpoint_client("logs").describe_log_streams(logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix=f"{name}/")["logStreams"]
    assert [s["logStreamName"].rsplit("-", 1)[0] for s in streams] == [f"{name}/algo-1"]


def test_stop_training_job_ends_its_process_and_a_second_stop_is_refused(sagemaker, s3, bucket) -> None:
    prefix = unique("stop")
    s3.put_object(Bucket=bucket, Key=f"{prefix}/train/train.csv", Body=b"1,2\n")
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as bundle:
        code = b"import time\nprint('training', flush=True)\ntime.sleep(300)\n"
        info = tarfile.TarInfo("train.py")
        info.size = len(code)
        bundle.addfile(info, io.BytesIO(code))
    s3.put_object(Bucket=bucket, Key=f"{prefix}/code.tar.gz", Body=archive.getvalue())
    name = unique("sleeper")
    request = training_request(bucket, prefix, name, image="763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.1-cpu-py310",
                               hyperparameters={"sagemaker_program": "train.py",
                                                "sagemaker_submit_directory": f"s3://{bucket}/{prefix}/code.tar.gz"})
    sagemaker.create_training_job(**request)
    wait_job(lambda: sagemaker.describe_training_job(TrainingJobName=name), "SecondaryStatus", statuses=("Training",))
    sagemaker.stop_training_job(TrainingJobName=name)
    assert sagemaker.describe_training_job(TrainingJobName=name)["TrainingJobStatus"] in ("Stopping", "Stopped")
    job = wait_job(lambda: sagemaker.describe_training_job(TrainingJobName=name), "TrainingJobStatus", timeout=30)
    assert job["TrainingJobStatus"] == "Stopped" and job["SecondaryStatus"] == "Stopped"
    assert "FailureReason" not in job
    with pytest.raises(ClientError) as refused:
        sagemaker.stop_training_job(TrainingJobName=name)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "in status Stopped" in refused.value.response["Error"]["Message"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda r, b: r["AppSpecification"].update(ImageUri="123456789012.dkr.ecr.us-east-1.amazonaws.com/my-r:1"), "my-r:1"),
        (lambda r, b: r["ProcessingInputs"].append({"InputName": "data", "S3Input": {
            "S3Uri": f"s3://{b}/nothing/here/", "LocalPath": "/opt/ml/processing/input/data",
            "S3DataType": "S3Prefix", "S3InputMode": "File"}}), "nothing/here/"),
    ],
    ids=["unknown-image", "missing-s3-input"],
)
def test_job_that_cannot_run_fails_with_a_reason_naming_the_cause(sagemaker, s3, bucket, change: Any, expected: str) -> None:
    name = unique("doomed")
    request = processing_request(bucket, put_script(s3, bucket, "print('never')"), name)
    change(request, bucket)
    sagemaker.create_processing_job(**request)
    job = wait_job(lambda: sagemaker.describe_processing_job(ProcessingJobName=name), "ProcessingJobStatus")
    assert job["ProcessingJobStatus"] == "Failed" and expected in job["FailureReason"]


@pytest.mark.parametrize(
    ("change", "attribute"),
    [
        (lambda r: r.update(ProcessingJobName="bad_name!"), "processingJobName"),
        (lambda r: r["ProcessingInputs"][0]["S3Input"].update(LocalPath="/tmp/code"), "processingInputs.1.member.s3Input.localPath"),
        (lambda r: r["ProcessingInputs"][0]["S3Input"].update(S3InputMode="Stream"), "processingInputs.1.member.s3Input.s3InputMode"),
        (lambda r: r["ProcessingInputs"][0]["S3Input"].update(S3Uri="bucket/key"), "processingInputs.1.member.s3Input.s3Uri"),
        (lambda r: r.pop("RoleArn"), "roleArn"),
        (lambda r: r.update(RoleArn="SageMakerRole"), "roleArn"),
    ],
    ids=["name", "local-path", "input-mode", "s3-uri", "no-role", "role-not-arn"],
)
def test_malformed_request_is_a_validation_exception_naming_the_field(endpoint, s3, bucket, change: Any, attribute: str) -> None:
    import boto3

    raw = boto3.client("sagemaker", endpoint_url=endpoint, config=Config(parameter_validation=False))
    request = processing_request(bucket, put_script(s3, bucket, "print('never')"), unique("malformed"))
    change(request)
    with pytest.raises(ClientError) as refused:
        raw.create_processing_job(**request)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert f"at '{attribute}' failed to satisfy constraint" in refused.value.response["Error"]["Message"]
    if request.get("ProcessingJobName", "").startswith("malformed"):
        with pytest.raises(ClientError):
            raw.describe_processing_job(ProcessingJobName=request["ProcessingJobName"])


def test_job_names_are_unique_and_an_unknown_job_is_a_validation_exception(sagemaker, s3, bucket) -> None:
    name = unique("twice")
    request = processing_request(bucket, put_script(s3, bucket, "print('once')"), name)
    sagemaker.create_processing_job(**request)
    with pytest.raises(ClientError) as refused:
        sagemaker.create_processing_job(**request)
    assert refused.value.response["Error"]["Code"] == "ResourceInUse"
    for call, argument in (("describe_processing_job", "ProcessingJobName"), ("describe_training_job", "TrainingJobName"),
                           ("describe_transform_job", "TransformJobName")):
        with pytest.raises(ClientError) as unknown:
            getattr(sagemaker, call)(**{argument: unique("nobody")})
        # The provider's "does this job exist" check relies on this code.
        assert unknown.value.response["Error"]["Code"] == "ValidationException"


# --- batch transform ----------------------------------------------------------------------------
def _xgboost_model(s3, bucket: str, prefix: str) -> str:
    import xgboost as xgb

    values = np.loadtxt(io.BytesIO(_csv(400, 3)), delimiter=",")
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 3}, xgb.DMatrix(values[:, 1:], label=values[:, 0]), 10)
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as bundle:
        data = booster.save_raw("json")
        info = tarfile.TarInfo("xgboost-model")
        info.size = len(data)
        bundle.addfile(info, io.BytesIO(bytes(data)))
    s3.put_object(Bucket=bucket, Key=f"{prefix}/model.tar.gz", Body=archive.getvalue())
    return f"s3://{bucket}/{prefix}/model.tar.gz"


def _transform_request(name: str, model: str, source: str, output: str, **options: Any) -> dict[str, Any]:
    request = {
        "TransformJobName": name, "ModelName": model,
        "TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": source}},
                           "ContentType": "text/csv", "SplitType": "Line"},
        "TransformOutput": {"S3OutputPath": output, "AssembleWith": "Line", "Accept": "text/csv"},
        "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
    }
    request.update(options)
    return request


@pytest.fixture(scope="module")
def xgboost_model(sagemaker, s3, bucket) -> str:
    prefix = unique("transform-model")
    name = unique("xgb-model")
    sagemaker.create_model(ModelName=name, ExecutionRoleArn=ROLE, PrimaryContainer={
        "Image": XGBOOST_IMAGE, "ModelDataUrl": _xgboost_model(s3, bucket, prefix)})
    return name


@pytest.mark.parametrize("strategy", ["MultiRecord", "SingleRecord"])
def test_batch_transform_writes_one_out_object_per_input_object_one_line_per_record(sagemaker, s3, bucket, endpoint_client, xgboost_model, strategy) -> None:
    prefix = unique("batch")
    s3.put_object(Bucket=bucket, Key=f"{prefix}/in/part-1.csv", Body=_csv(25, 4, label=False))
    s3.put_object(Bucket=bucket, Key=f"{prefix}/in/nested/part-2.csv", Body=_csv(7, 5, label=False))
    name = unique("transform")
    sagemaker.create_transform_job(**_transform_request(name, xgboost_model, f"s3://{bucket}/{prefix}/in",
                                                        f"s3://{bucket}/{prefix}/out", BatchStrategy=strategy, MaxPayloadInMB=1))
    job = wait_job(lambda: sagemaker.describe_transform_job(TransformJobName=name), "TransformJobStatus")
    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    assert job["CreationTime"] <= job["TransformStartTime"] <= job["TransformEndTime"]
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/out/")["Contents"])
    assert keys == [f"{prefix}/out/nested/part-2.csv.out", f"{prefix}/out/part-1.csv.out"]
    first = s3.get_object(Bucket=bucket, Key=f"{prefix}/out/part-1.csv.out")["Body"].read().decode().splitlines()
    assert len(first) == 25 and all(0.0 <= float(value) <= 1.0 for value in first)
    streams = endpoint_client("logs").describe_log_streams(logGroupName="/aws/sagemaker/TransformJobs", logStreamNamePrefix=f"{name}/")["logStreams"]
    assert len(streams) == 1 and streams[0]["logStreamName"].startswith(f"{name}/i-")


def test_batch_transform_refuses_a_record_over_max_payload_naming_it(sagemaker, s3, bucket, xgboost_model) -> None:
    prefix = unique("payload")
    big = b"1.0,2.0,3.0," + b"4" * (1024 * 1024 + 10) + b"\n"
    s3.put_object(Bucket=bucket, Key=f"{prefix}/in/data.csv", Body=b"1.0,2.0,3.0,4.0\n" + big)
    name = unique("too-big")
    sagemaker.create_transform_job(**_transform_request(name, xgboost_model, f"s3://{bucket}/{prefix}/in",
                                                        f"s3://{bucket}/{prefix}/out", MaxPayloadInMB=1))
    job = wait_job(lambda: sagemaker.describe_transform_job(TransformJobName=name), "TransformJobStatus")
    assert job["TransformJobStatus"] == "Failed"
    assert "input object data.csv, record 2" in job["FailureReason"] and "MaxPayloadInMB (1 MB)" in job["FailureReason"]


def test_batch_transform_names_the_bad_record(sagemaker, s3, bucket, xgboost_model) -> None:
    prefix = unique("bad-record")
    s3.put_object(Bucket=bucket, Key=f"{prefix}/in/data.csv", Body=b"1,2,3,4\n1,2,3,4\n1,two,3,4\n")
    name = unique("bad")
    sagemaker.create_transform_job(**_transform_request(name, xgboost_model, f"s3://{bucket}/{prefix}/in", f"s3://{bucket}/{prefix}/out"))
    job = wait_job(lambda: sagemaker.describe_transform_job(TransformJobName=name), "TransformJobStatus")
    assert job["TransformJobStatus"] == "Failed"
    assert "input object data.csv, record 3: not a numeric CSV row: '1,two,3,4'" in job["FailureReason"]


def test_script_mode_model_transforms_with_its_own_handlers(sagemaker, s3, bucket) -> None:
    prefix = unique("script-model")
    inference = (b"import json, os\n"
                 b"def model_fn(model_dir):\n    return json.load(open(os.path.join(model_dir, 'weights.json')))\n"
                 b"def predict_fn(data, model):\n    return [model['scale'] * sum(row) for row in data]\n")
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as bundle:
        for path, data in (("weights.json", json.dumps({"scale": 2}).encode()), ("code/inference.py", inference)):
            info = tarfile.TarInfo(path)
            info.size = len(data)
            bundle.addfile(info, io.BytesIO(data))
    s3.put_object(Bucket=bucket, Key=f"{prefix}/model.tar.gz", Body=archive.getvalue())
    model = unique("script-model")
    sagemaker.create_model(ModelName=model, ExecutionRoleArn=ROLE, PrimaryContainer={
        "Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
        "ModelDataUrl": f"s3://{bucket}/{prefix}/model.tar.gz", "Environment": {"SAGEMAKER_PROGRAM": "inference.py"}})
    s3.put_object(Bucket=bucket, Key=f"{prefix}/in/rows.csv", Body=b"1,2\n3,4\n")
    name = unique("script-transform")
    sagemaker.create_transform_job(**_transform_request(name, model, f"s3://{bucket}/{prefix}/in", f"s3://{bucket}/{prefix}/out",
                                                        BatchStrategy="SingleRecord"))
    job = wait_job(lambda: sagemaker.describe_transform_job(TransformJobName=name), "TransformJobStatus")
    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    assert s3.get_object(Bucket=bucket, Key=f"{prefix}/out/rows.csv.out")["Body"].read() == b"6.0\n14.0\n"


def test_transform_job_for_an_unknown_model_is_refused(sagemaker, bucket) -> None:
    with pytest.raises(ClientError) as refused:
        sagemaker.create_transform_job(**_transform_request(unique("orphan"), "no-such-model", f"s3://{bucket}/x", f"s3://{bucket}/y"))
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "no-such-model" in refused.value.response["Error"]["Message"]


def test_training_job_past_its_max_runtime_is_stopped_with_max_runtime_exceeded(sagemaker, s3, bucket) -> None:
    prefix = unique("overtime")
    s3.put_object(Bucket=bucket, Key=f"{prefix}/train/train.csv", Body=b"1,2\n")
    name = unique("overtime")
    request = training_request(bucket, prefix, name)
    request["AlgorithmSpecification"] = {"TrainingImage": XGBOOST_IMAGE, "TrainingInputMode": "File",
                                         "ContainerEntrypoint": ["python3", "-c", "import time; time.sleep(300)"]}
    request["StoppingCondition"] = {"MaxRuntimeInSeconds": 1}
    sagemaker.create_training_job(**request)
    job = wait_job(lambda: sagemaker.describe_training_job(TrainingJobName=name), "TrainingJobStatus", timeout=60)
    assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("Stopped", "MaxRuntimeExceeded")


def test_batch_transform_filters_joins_and_keeps_the_id_with_the_prediction(sagemaker, s3, bucket, xgboost_model) -> None:
    prefix = unique("join")
    features = _csv(6, 12, label=False).decode().splitlines()
    s3.put_object(Bucket=bucket, Key=f"{prefix}/in/data.csv",
                  Body="".join(f"id-{index},{row}\n" for index, row in enumerate(features)).encode())
    name = unique("join")
    # The ID column stays out of the model's input, and comes back beside its prediction.
    sagemaker.create_transform_job(**_transform_request(
        name, xgboost_model, f"s3://{bucket}/{prefix}/in", f"s3://{bucket}/{prefix}/out", BatchStrategy="MultiRecord",
        DataProcessing={"InputFilter": "$[1:]", "JoinSource": "Input", "OutputFilter": "$[0,-1]"}))
    job = wait_job(lambda: sagemaker.describe_transform_job(TransformJobName=name), "TransformJobStatus")
    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    rows = [line.split(",") for line in s3.get_object(Bucket=bucket, Key=f"{prefix}/out/data.csv.out")["Body"].read().decode().splitlines()]
    assert [row[0] for row in rows] == [f"id-{index}" for index in range(6)]
    assert all(len(row) == 2 and 0.0 <= float(row[1]) <= 1.0 for row in rows)


def test_batch_transform_input_filter_the_record_cannot_satisfy_fails_naming_it(sagemaker, s3, bucket, xgboost_model) -> None:
    prefix = unique("bad-filter")
    s3.put_object(Bucket=bucket, Key=f"{prefix}/in/data.csv", Body=b"1,2,3,4\n1,2\n")
    name = unique("bad-filter")
    sagemaker.create_transform_job(**_transform_request(
        name, xgboost_model, f"s3://{bucket}/{prefix}/in", f"s3://{bucket}/{prefix}/out",
        DataProcessing={"InputFilter": "$[0,3]"}))
    job = wait_job(lambda: sagemaker.describe_transform_job(TransformJobName=name), "TransformJobStatus")
    assert job["TransformJobStatus"] == "Failed"
    assert "input object data.csv, record 2: InputFilter '$[0,3]'" in job["FailureReason"]
