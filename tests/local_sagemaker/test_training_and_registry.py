"""Training (built-in XGBoost and script mode), RegisterModel and Model steps."""

from __future__ import annotations

import io
import json
import tarfile

import numpy as np

from tests.support.pipelines import ROLE, XGBOOST_IMAGE, create_pipeline, steps_by_name, unique, wait_for


def _csv(rows: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(rows, 4))
    label = (features[:, 0] + 0.5 * features[:, 1] + rng.normal(scale=0.5, size=rows) > 0).astype(int)
    buffer = io.StringIO()
    np.savetxt(buffer, np.column_stack([label, features]), delimiter=",", fmt="%.5f")
    return buffer.getvalue().encode()


def _training_step(bucket: str, prefix: str, hyperparameters: dict, image: str = XGBOOST_IMAGE, **algorithm: object) -> dict:
    channels = [{"ChannelName": channel, "ContentType": "text/csv",
                 "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/{prefix}/{channel}",
                                                 "S3DataDistributionType": "FullyReplicated"}}}
                for channel in ("train", "validation")]
    return {"Name": "Train", "Type": "Training", "Arguments": {
        "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File", **algorithm},
        "HyperParameters": hyperparameters,
        "InputDataConfig": channels,
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/{prefix}/model"},
        "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
        "RoleArn": ROLE,
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }}


def _seed(s3, bucket: str) -> str:
    prefix = unique("training")
    s3.put_object(Bucket=bucket, Key=f"{prefix}/train/train.csv", Body=_csv(800, 1))
    s3.put_object(Bucket=bucket, Key=f"{prefix}/validation/validation.csv", Body=_csv(200, 2))
    return prefix


def test_builtin_xgboost_trains_reports_metrics_and_registers_the_model(sagemaker, s3, bucket, endpoint_client) -> None:
    prefix = _seed(s3, bucket)
    group = unique("group")
    train = _training_step(bucket, prefix, {"objective": "binary:logistic", "num_round": "20", "max_depth": "3",
                                            "eta": "0.3", "subsample": "0.8", "eval_metric": "auc",
                                            "early_stopping_rounds": "5"})
    artifacts = {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}
    register = {"Name": "Register", "Type": "RegisterModel", "Arguments": {
        "ModelPackageGroupName": group,
        "InferenceSpecification": {"Containers": [{"Image": XGBOOST_IMAGE, "ModelDataUrl": artifacts}],
                                   "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"]},
        "ModelApprovalStatus": "PendingManualApproval",
        "ModelMetrics": {"ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": f"s3://{bucket}/{prefix}/eval.json"}}},
    }}
    model = {"Name": "CreateModel", "Type": "Model", "Arguments": {
        "ExecutionRoleArn": ROLE, "PrimaryContainer": {"Image": XGBOOST_IMAGE, "ModelDataUrl": artifacts}}}
    name = create_pipeline(sagemaker, [train, register, model])
    arn = sagemaker.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    assert wait_for(sagemaker, arn, timeout=180)["PipelineExecutionStatus"] == "Succeeded"
    listed = steps_by_name(sagemaker, arn)

    job = sagemaker.describe_training_job(TrainingJobName=listed["Train"]["Metadata"]["TrainingJob"]["Arn"].rsplit("/", 1)[-1])
    assert job["TrainingJobStatus"] == "Completed"
    artifact_uri = job["ModelArtifacts"]["S3ModelArtifacts"]
    assert artifact_uri == f"s3://{bucket}/{prefix}/model/{job['TrainingJobName']}/output/model.tar.gz"
    metrics = {metric["MetricName"]: metric["Value"] for metric in job["FinalMetricDataList"]}
    assert metrics["validation:auc"] > 0.75 and "train:auc" in metrics
    body = s3.get_object(Bucket=bucket, Key=artifact_uri.split(f"{bucket}/", 1)[1])["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as bundle:
        assert bundle.getnames() == ["xgboost-model"]

    logs = endpoint_client("logs")
    stream = logs.describe_log_streams(logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix=job["TrainingJobName"] + "/")["logStreams"][0]
    messages = [e["message"] for e in logs.get_log_events(logGroupName="/aws/sagemaker/TrainingJobs", logStreamName=stream["logStreamName"])["events"]]
    assert any(m.startswith("[0]#011train-auc:") and "#011validation-auc:" in m for m in messages)

    package_arn = listed["Register"]["Metadata"]["RegisterModel"]["Arn"]
    package = sagemaker.describe_model_package(ModelPackageName=package_arn)
    assert package["ModelPackageGroupName"] == group
    assert package["ModelApprovalStatus"] == "PendingManualApproval"
    assert package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"] == artifact_uri
    assert package["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"] == f"s3://{bucket}/{prefix}/eval.json"
    model_arn = listed["CreateModel"]["Metadata"]["Model"]["Arn"]
    assert sagemaker.describe_model(ModelName=model_arn.rsplit("/", 1)[-1])["PrimaryContainer"]["ModelDataUrl"] == artifact_uri


def test_xgboost_without_num_round_fails_with_the_algorithm_error(sagemaker, s3, bucket) -> None:
    prefix = _seed(s3, bucket)
    name = create_pipeline(sagemaker, [_training_step(bucket, prefix, {"objective": "binary:logistic"})])
    arn = sagemaker.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    assert wait_for(sagemaker, arn, timeout=120)["PipelineExecutionStatus"] == "Failed"
    assert "Missing required hyperparameter: num_round" in steps_by_name(sagemaker, arn)["Train"]["FailureReason"]


def test_script_mode_training_follows_the_toolkit_contract(sagemaker, s3, bucket) -> None:
    prefix = _seed(s3, bucket)
    script = """
import argparse, json, os, pathlib
parser = argparse.ArgumentParser()
parser.add_argument('--depth', type=int)
args = parser.parse_args()
rows = sum(1 for _ in open(os.path.join(os.environ['SM_CHANNEL_TRAIN'], 'train.csv')))
pathlib.Path(os.environ['SM_MODEL_DIR'], 'model.json').write_text(json.dumps(
    {'depth': args.depth, 'rows': rows, 'hps': json.loads(os.environ['SM_HPS']), 'channels': json.loads(os.environ['SM_CHANNELS'])}))
print(f'loss={0.25}')
"""
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as bundle:
        data = script.encode()
        info = tarfile.TarInfo("train.py")
        info.size = len(data)
        bundle.addfile(info, io.BytesIO(data))
    s3.put_object(Bucket=bucket, Key=f"{prefix}/code/sourcedir.tar.gz", Body=archive.getvalue())
    step = _training_step(
        bucket, prefix,
        {"depth": "4", "sagemaker_program": json.dumps("train.py"),
         "sagemaker_submit_directory": json.dumps(f"s3://{bucket}/{prefix}/code/sourcedir.tar.gz")},
        image="763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.1-cpu-py310",
        MetricDefinitions=[{"Name": "loss", "Regex": r"loss=([0-9.]+)"}],
    )
    name = create_pipeline(sagemaker, [step])
    arn = sagemaker.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    assert wait_for(sagemaker, arn, timeout=120)["PipelineExecutionStatus"] == "Succeeded"
    job = sagemaker.describe_training_job(TrainingJobName=steps_by_name(sagemaker, arn)["Train"]["Metadata"]["TrainingJob"]["Arn"].rsplit("/", 1)[-1])
    assert job["FinalMetricDataList"][0]["MetricName"] == "loss" and job["FinalMetricDataList"][0]["Value"] == 0.25
    body = s3.get_object(Bucket=bucket, Key=job["ModelArtifacts"]["S3ModelArtifacts"].split(f"{bucket}/", 1)[1])["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as bundle:
        model = json.loads(bundle.extractfile("model.json").read())
    assert model == {"depth": 4, "rows": 800, "hps": {"depth": "4"}, "channels": ["train", "validation"]}


def test_training_image_it_cannot_emulate_fails_naming_it(sagemaker, s3, bucket) -> None:
    prefix = _seed(s3, bucket)
    image = "382416733822.dkr.ecr.us-east-1.amazonaws.com/object2vec:1"  # a built-in algorithm not emulated
    name = create_pipeline(sagemaker, [_training_step(bucket, prefix, {"feature_dim": "4"}, image=image)])
    arn = sagemaker.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    wait_for(sagemaker, arn)
    assert image in steps_by_name(sagemaker, arn)["Train"]["FailureReason"]
