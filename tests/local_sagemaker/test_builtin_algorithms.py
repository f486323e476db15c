"""SageMaker's built-in KNN, Linear Learner and K-Means algorithms on the local endpoint: recognised by their
image URIs in every region, trained from CSV channels with their hyperparameters checked and their metrics
reported, served (InvokeEndpoint) and used by batch transform with each algorithm's own answer fields."""

from __future__ import annotations

import io
import json
import sys
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError

from devtools.local_sagemaker.engine.builtin_algorithms import ALGORITHM_REGISTRIES, builtin_algorithm
from tests.support.pipelines import ROLE, unique

from .serving import wait_endpoint
from .test_standalone_jobs import _transform_request, wait_job

REGION = "us-east-1"
ALGORITHMS = ("knn", "linear-learner", "kmeans")
HYPERPARAMETERS = {
    "knn": {"k": "5", "sample_size": "200", "predictor_type": "classifier", "feature_dim": "4"},
    "linear-learner": {"predictor_type": "binary_classifier", "feature_dim": "4", "mini_batch_size": "50"},
    "kmeans": {"k": "2", "feature_dim": "4"},
}
CHANNELS = {"knn": ("train", "test"), "linear-learner": ("train", "validation", "test"), "kmeans": ("train", "test")}


def image(algorithm: str, region: str = REGION) -> str:
    from sagemaker.core import image_uris

    return image_uris.retrieve(algorithm, region=region)


def features(rows: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = np.where(rng.random(rows) < 0.5, -2.0, 2.0)[:, None]  # two well-separated blobs
    return centers + rng.normal(size=(rows, 4))


def csv(values: np.ndarray) -> bytes:
    buffer = io.StringIO()
    np.savetxt(buffer, values, delimiter=",", fmt="%.5f")
    return buffer.getvalue().encode()


def labelled(rows: int, seed: int) -> bytes:
    values = features(rows, seed)
    return csv(np.column_stack([(values[:, 0] + values[:, 1] > 0).astype(int), values]))


def channel_data(algorithm: str, seed: int) -> bytes:
    return csv(features(200, seed)) if algorithm == "kmeans" else labelled(200, seed)


def training_request(bucket: str, prefix: str, name: str, algorithm: str, hyperparameters: dict[str, str] | None = None,
                     content_type: str | None = "text/csv") -> dict[str, Any]:
    channels = []
    for channel in CHANNELS[algorithm]:
        item: dict[str, Any] = {"ChannelName": channel, "DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/{prefix}/{channel}", "S3DataDistributionType": "FullyReplicated"}}}
        if content_type:
            item["ContentType"] = content_type
        channels.append(item)
    return {
        "TrainingJobName": name, "RoleArn": ROLE,
        "AlgorithmSpecification": {"TrainingImage": image(algorithm), "TrainingInputMode": "File"},
        "HyperParameters": HYPERPARAMETERS[algorithm] if hyperparameters is None else hyperparameters,
        "InputDataConfig": channels,
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/{prefix}/model"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }


def train(sagemaker: Any, s3: Any, bucket: str, algorithm: str, **options: Any) -> dict[str, Any]:
    prefix = unique(f"{algorithm}-data")
    for seed, channel in enumerate(CHANNELS[algorithm]):
        s3.put_object(Bucket=bucket, Key=f"{prefix}/{channel}/data.csv", Body=channel_data(algorithm, seed))
    name = unique(algorithm)
    sagemaker.create_training_job(**training_request(bucket, prefix, name, algorithm, **options))
    return wait_job(lambda: sagemaker.describe_training_job(TrainingJobName=name), "TrainingJobStatus")


@pytest.fixture(scope="module")
def trained(sagemaker, s3, bucket) -> dict[str, dict[str, Any]]:
    """One completed training job of each algorithm."""
    return {algorithm: train(sagemaker, s3, bucket, algorithm) for algorithm in ALGORITHMS}


@pytest.fixture(scope="module")
def models(sagemaker, trained) -> dict[str, str]:
    """A model of each trained algorithm, with the algorithm's image."""
    names = {}
    for algorithm, job in trained.items():
        names[algorithm] = unique(f"{algorithm}-model")
        sagemaker.create_model(ModelName=names[algorithm], ExecutionRoleArn=ROLE, PrimaryContainer={
            "Image": image(algorithm), "ModelDataUrl": job["ModelArtifacts"]["S3ModelArtifacts"]})
    return names


# --- images ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_the_algorithms_images_are_recognised_in_every_region_the_sdk_knows(algorithm: str) -> None:
    import sagemaker.core
    from sagemaker.core import image_uris

    config = Path(sagemaker.core.__file__).parent / "image_uri_config" / f"{algorithm}.json"
    assert json.loads(config.read_text())["versions"]["1"]["registries"] == ALGORITHM_REGISTRIES
    for region in ALGORITHM_REGISTRIES:
        assert builtin_algorithm(image_uris.retrieve(algorithm, region=region)) == algorithm, region
    assert builtin_algorithm(f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{algorithm}:1") is None  # someone's own
    assert builtin_algorithm(f"{ALGORITHM_REGISTRIES['eu-west-1']}.dkr.ecr.us-east-1.amazonaws.com/{algorithm}:1") is None


# --- training ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("algorithm", "metrics"),
    [
        ("knn", {"test:accuracy"}),
        ("linear-learner", {"validation:objective_loss", "validation:binary_classification_accuracy", "validation:precision",
                            "validation:recall", "validation:binary_f_beta", "validation:roc_auc_score",
                            "test:objective_loss", "test:binary_classification_accuracy", "test:precision", "test:recall",
                            "test:binary_f_beta", "test:roc_auc_score"}),
        ("kmeans", {"train:msd", "test:msd"}),
    ],
)
def test_training_reads_csv_fits_and_reports_the_algorithms_metrics(trained, s3, bucket, endpoint_client, algorithm: str,
                                                                   metrics: set[str]) -> None:
    job = trained[algorithm]
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    final = {metric["MetricName"]: metric["Value"] for metric in job["FinalMetricDataList"]}
    assert set(final) == metrics
    if algorithm == "kmeans":
        assert 0 < final["train:msd"] < 8  # 4 unit-variance features around the two centers: about 4
    else:
        accuracy = final["test:accuracy" if algorithm == "knn" else "test:binary_classification_accuracy"]
        assert accuracy > 0.85
    artifacts = job["ModelArtifacts"]["S3ModelArtifacts"]
    body = s3.get_object(Bucket=bucket, Key=artifacts.split(f"{bucket}/", 1)[1])["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as bundle:
        assert bundle.getnames() == ["model_algo-1"]
    logs = endpoint_client("logs")
    stream = logs.describe_log_streams(logGroupName="/aws/sagemaker/TrainingJobs",
                                       logStreamNamePrefix=f"{job['TrainingJobName']}/")["logStreams"][0]["logStreamName"]
    lines = [e["message"] for e in logs.get_log_events(logGroupName="/aws/sagemaker/TrainingJobs", logStreamName=stream)["events"]]
    assert any(line.startswith("#quality_metric: host=algo-1, ") for line in lines)


@pytest.mark.parametrize(
    ("algorithm", "change", "named"),
    [
        ("knn", lambda h: h.pop("k"), "No value(s) were specified for 'k' which are required hyperparameter(s)"),
        ("knn", lambda h: h.pop("sample_size"), "'sample_size'"),
        ("knn", lambda h: h.update(predictor_type="ranker"), "Invalid hyperparameter 'predictor_type': 'ranker' is not one of"),
        ("linear-learner", lambda h: h.pop("predictor_type"), "'predictor_type' which are required"),
        ("linear-learner", lambda h: h.update(feature_dim="7"), "hyperparameter 'feature_dim' is 7"),
        ("kmeans", lambda h: h.pop("feature_dim"), "'feature_dim' which are required"),
        ("kmeans", lambda h: h.update(k="two"), "Invalid hyperparameter 'k': 'two' is not of type 'integer'"),
        ("kmeans", lambda h: h.update(feature_dim="5"), "has 4 feature(s) per record but hyperparameter 'feature_dim' is 5"),
    ],
    ids=["knn-no-k", "knn-no-sample-size", "knn-bad-predictor", "ll-no-predictor", "ll-feature-dim",
         "kmeans-no-feature-dim", "kmeans-k-not-integer", "kmeans-feature-dim"],
)
def test_bad_hyperparameters_fail_the_job_naming_the_hyperparameter(sagemaker, s3, bucket, algorithm: str, change: Any,
                                                                   named: str) -> None:
    hyperparameters = dict(HYPERPARAMETERS[algorithm])
    change(hyperparameters)
    job = train(sagemaker, s3, bucket, algorithm, hyperparameters=hyperparameters)
    assert job["TrainingJobStatus"] == "Failed"
    assert "ClientError: " in job["FailureReason"] and named in job["FailureReason"]


@pytest.mark.parametrize("content_type", [None, "application/x-recordio-protobuf"], ids=["default", "named"])
def test_recordio_protobuf_channels_fail_saying_they_are_not_emulated(sagemaker, s3, bucket, content_type: str | None) -> None:
    job = train(sagemaker, s3, bucket, "kmeans", content_type=content_type)
    assert job["TrainingJobStatus"] == "Failed"
    assert "application/x-recordio-protobuf" in job["FailureReason"]
    assert "is not emulated by the local endpoint: give the channel ContentType text/csv" in job["FailureReason"]


# --- serving -----------------------------------------------------------------------------------------
INFERENCE_ROWS = features(5, 99)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="model servers are found through /proc")
@pytest.mark.usefixtures("delete_endpoints_after")
def test_endpoints_answer_csv_with_each_algorithms_own_fields(sagemaker, runtime, models) -> None:
    body = csv(INFERENCE_ROWS)
    expected_label = (INFERENCE_ROWS[:, 0] + INFERENCE_ROWS[:, 1] > 0).astype(int).tolist()
    endpoints = {}
    for algorithm, model in models.items():  # all three start at once
        config = unique("config")
        sagemaker.create_endpoint_config(EndpointConfigName=config, ProductionVariants=[{
            "VariantName": "AllTraffic", "ModelName": model, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}])
        name = unique(f"{algorithm}-endpoint")
        sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=config)
        endpoints[algorithm] = name
    for algorithm, name in endpoints.items():
        described = wait_endpoint(sagemaker, name)
        assert described["EndpointStatus"] == "InService", described.get("FailureReason")
        response = runtime.invoke_endpoint(EndpointName=name, Body=body, ContentType="text/csv")
        assert response["ContentType"] == "application/json"
        predictions = json.loads(response["Body"].read())["predictions"]
        assert len(predictions) == len(INFERENCE_ROWS)
        if algorithm == "knn":
            assert set(predictions[0]) == {"predicted_label"}
            assert [p["predicted_label"] for p in predictions] == [float(label) for label in expected_label]
        elif algorithm == "linear-learner":
            assert set(predictions[0]) == {"score", "predicted_label"}
            assert [p["predicted_label"] for p in predictions] == expected_label
            assert all((p["score"] >= 0.5) == bool(p["predicted_label"]) for p in predictions)
        else:
            assert set(predictions[0]) == {"closest_cluster", "distance_to_cluster"}
            clusters = {row[0] > 0: p["closest_cluster"] for row, p in zip(INFERENCE_ROWS, predictions, strict=True)}
            assert len(set(clusters.values())) == len(clusters)  # the two blobs fall in different clusters
            assert all(p["distance_to_cluster"] > 0 for p in predictions)

        lines = runtime.invoke_endpoint(EndpointName=name, Body=body, ContentType="text/csv", Accept="application/jsonlines")
        assert lines["ContentType"] == "application/jsonlines"
        assert [json.loads(line) for line in lines["Body"].read().decode().splitlines()] == predictions
        with pytest.raises(ClientError) as unwritable:
            runtime.invoke_endpoint(EndpointName=name, Body=body, ContentType="text/csv", Accept="application/x-recordio-protobuf")
        assert unwritable.value.response["OriginalStatusCode"] == 406
        assert "RecordIO-protobuf is not emulated" in unwritable.value.response["OriginalMessage"]
        with pytest.raises(ClientError) as unreadable:
            runtime.invoke_endpoint(EndpointName=name, Body=b"\x0a\x01", ContentType="application/x-recordio-protobuf")
        assert unreadable.value.response["OriginalStatusCode"] == 415
        with pytest.raises(ClientError) as too_wide:
            runtime.invoke_endpoint(EndpointName=name, Body=b"1,2,3,4,5", ContentType="text/csv")
        assert too_wide.value.response["OriginalStatusCode"] == 400
        assert "the model was trained on 4" in too_wide.value.response["OriginalMessage"]


def test_batch_transform_answers_json_with_the_algorithms_fields(sagemaker, s3, bucket, models) -> None:
    prefix = unique("builtin-batch")
    s3.put_object(Bucket=bucket, Key=f"{prefix}/in/rows.csv", Body=csv(INFERENCE_ROWS))
    names = {}
    for algorithm, model in models.items():
        names[algorithm] = unique(f"{algorithm}-transform")
        request = _transform_request(names[algorithm], model, f"s3://{bucket}/{prefix}/in", f"s3://{bucket}/{prefix}/{algorithm}",
                                     BatchStrategy="MultiRecord")
        request["TransformOutput"]["Accept"] = "application/jsonlines"
        sagemaker.create_transform_job(**request)
    fields = {"knn": {"predicted_label"}, "linear-learner": {"score", "predicted_label"},
              "kmeans": {"closest_cluster", "distance_to_cluster"}}
    for algorithm, name in names.items():
        job = wait_job(lambda name=name: sagemaker.describe_transform_job(TransformJobName=name), "TransformJobStatus")
        assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
        output = s3.get_object(Bucket=bucket, Key=f"{prefix}/{algorithm}/rows.csv.out")["Body"].read().decode()
        records = [json.loads(line) for line in output.splitlines()]
        assert len(records) == len(INFERENCE_ROWS) and all(set(record) == fields[algorithm] for record in records)


def test_batch_transform_default_accept_is_one_json_document_per_request(sagemaker, s3, bucket, models) -> None:
    prefix = unique("builtin-json")
    s3.put_object(Bucket=bucket, Key=f"{prefix}/in/rows.csv", Body=csv(INFERENCE_ROWS))
    name = unique("knn-json")
    request = _transform_request(name, models["knn"], f"s3://{bucket}/{prefix}/in", f"s3://{bucket}/{prefix}/out",
                                 BatchStrategy="MultiRecord")
    request["TransformOutput"].pop("Accept")
    sagemaker.create_transform_job(**request)
    job = wait_job(lambda: sagemaker.describe_transform_job(TransformJobName=name), "TransformJobStatus")
    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    output = s3.get_object(Bucket=bucket, Key=f"{prefix}/out/rows.csv.out")["Body"].read().decode()
    assert len(json.loads(output)["predictions"]) == len(INFERENCE_ROWS)
