"""A model's artifact given as an S3 HTTPS URL, as SageMaker takes it in ModelDataUrl, is read like an s3:// URI
by real-time endpoints and batch transform jobs."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from devtools.local_sagemaker.engine.errors import StepFailure
from devtools.local_sagemaker.engine.s3_transfer import split_s3_uri

from .serving import csv_body, deploy, in_process, predictions, rows, train_booster, xgboost_artifact
from .test_standalone_jobs import _transform_request, wait_job

HTTPS_FORMS = {
    "virtual-hosted-legacy-region": "https://{bucket}.s3-us-east-1.amazonaws.com/{key}",
    "virtual-hosted-global": "https://{bucket}.s3.amazonaws.com/{key}",
    "virtual-hosted-region": "https://{bucket}.s3.us-east-1.amazonaws.com/{key}",
    "path-style": "https://s3.us-east-1.amazonaws.com/{bucket}/{key}",
}


def https_url(s3_uri: str, form: str) -> str:
    bucket, key = s3_uri.removeprefix("s3://").split("/", 1)
    return HTTPS_FORMS[form].format(bucket=bucket, key=key)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("s3://bucket/models/model.tar.gz", ("bucket", "models/model.tar.gz")),
        ("https://my-bucket.s3-us-west-2.amazonaws.com/a/model.tar.gz", ("my-bucket", "a/model.tar.gz")),
        ("https://my.dotted.bucket.s3.amazonaws.com/a%20b/model.tar.gz", ("my.dotted.bucket", "a b/model.tar.gz")),
        ("https://my-bucket.s3.eu-west-1.amazonaws.com/model.tar.gz", ("my-bucket", "model.tar.gz")),
        ("https://s3.eu-west-1.amazonaws.com/my-bucket/a/model.tar.gz", ("my-bucket", "a/model.tar.gz")),
        ("https://s3-eu-west-1.amazonaws.com/my-bucket/model.tar.gz", ("my-bucket", "model.tar.gz")),
        ("https://s3.amazonaws.com/my-bucket/model.tar.gz", ("my-bucket", "model.tar.gz")),
        ("https://my-bucket.s3.dualstack.us-east-1.amazonaws.com/model.tar.gz", ("my-bucket", "model.tar.gz")),
        ("https://my-bucket.s3.cn-north-1.amazonaws.com.cn/model.tar.gz", ("my-bucket", "model.tar.gz")),
    ],
)
def test_s3_https_urls_name_their_bucket_and_key(url: str, expected: tuple[str, str]) -> None:
    assert split_s3_uri(url) == expected


@pytest.mark.parametrize("url", ["https://example.com/bucket/model.tar.gz", "http://bucket.s3.amazonaws.com/model.tar.gz",
                                 "https://s3.amazonaws.com/", "bucket/model.tar.gz"])
def test_urls_that_are_not_s3_are_refused_naming_them(url: str) -> None:
    with pytest.raises(StepFailure, match="is not an S3 URI"):
        split_s3_uri(url)


@pytest.fixture(scope="module")
def booster() -> Any:
    return train_booster(7)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="model servers are found through /proc")
@pytest.mark.usefixtures("delete_endpoints_after")
@pytest.mark.parametrize("form", list(HTTPS_FORMS))
def test_endpoint_serves_a_model_data_url_given_as_an_s3_https_url(sagemaker, runtime, s3, bucket, booster, form: str) -> None:
    name = deploy(sagemaker, https_url(xgboost_artifact(s3, bucket, booster), form))
    body = csv_body(rows(20, 8))
    assert predictions(runtime, name, body) == in_process(booster, body)


def test_batch_transform_reads_a_model_data_url_given_as_an_s3_https_url(sagemaker, s3, bucket, booster) -> None:
    from tests.support.pipelines import ROLE, XGBOOST_IMAGE, unique

    model = unique("https-model")
    sagemaker.create_model(ModelName=model, ExecutionRoleArn=ROLE, PrimaryContainer={
        "Image": XGBOOST_IMAGE, "ModelDataUrl": https_url(xgboost_artifact(s3, bucket, booster), "path-style")})
    prefix = unique("https-transform")
    body = csv_body(rows(12, 9))
    s3.put_object(Bucket=bucket, Key=f"{prefix}/in/rows.csv", Body=body)
    name = unique("https-transform")
    sagemaker.create_transform_job(**_transform_request(name, model, f"s3://{bucket}/{prefix}/in", f"s3://{bucket}/{prefix}/out"))
    job = wait_job(lambda: sagemaker.describe_transform_job(TransformJobName=name), "TransformJobStatus")
    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    scored = s3.get_object(Bucket=bucket, Key=f"{prefix}/out/rows.csv.out")["Body"].read().decode().splitlines()
    assert [float(value) for value in scored] == pytest.approx(in_process(booster, body), rel=1e-6)
