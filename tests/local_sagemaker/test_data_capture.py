"""Data capture of real-time endpoints: what CreateEndpointConfig's DataCaptureConfig makes the local endpoint
write to S3, in the layout and JSON Lines format Model Monitor reads on AWS.

Captures are written by a background thread, so every test waits for objects with a bounded poll; "nothing
written" is shown by a capture sent after it (the writer keeps order) appearing while the other did not.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import sys
import uuid
from datetime import datetime
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from .endpoint_process import wait_until
from .serving import create_model, csv_body, rows, train_booster, unique, wait_endpoint, xgboost_artifact

pytestmark = [pytest.mark.skipif(not sys.platform.startswith("linux"), reason="model servers run on Linux"),
              pytest.mark.usefixtures("delete_endpoints_after")]

WAIT_SECONDS = 30
KEY_NAME = re.compile(r"\d{2}-\d{2}-\d{3}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.jsonl")
FULL_CAPTURE = {"EnableCapture": True, "InitialSamplingPercentage": 100,
                "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
                "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"], "JsonContentTypes": ["application/json"]}}


@pytest.fixture(scope="module")
def model(sagemaker: Any, s3: Any, bucket: str) -> str:
    return create_model(sagemaker, xgboost_artifact(s3, bucket, train_booster(1)))


def deploy_with_capture(sagemaker: Any, model: str, capture: dict[str, Any] | None) -> str:
    config = unique("config")
    request: dict[str, Any] = {"EndpointConfigName": config, "ProductionVariants": [
        {"VariantName": "AllTraffic", "ModelName": model, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}]}
    if capture is not None:
        request["DataCaptureConfig"] = capture
    sagemaker.create_endpoint_config(**request)
    name = unique("capture")
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=config)
    described = wait_endpoint(sagemaker, name)
    assert described["EndpointStatus"] == "InService", described.get("FailureReason")
    return name


def captured(s3: Any, bucket: str, prefix: str) -> dict[str, list[dict[str, Any]]]:
    """Every capture object under `prefix`: key -> its parsed JSON lines."""
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
    return {key: [json.loads(line) for line in s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode().splitlines()]
            for key in keys}


def wait_for_records(s3: Any, bucket: str, prefix: str, count: int) -> dict[str, list[dict[str, Any]]]:
    return wait_until(lambda: (found := captured(s3, bucket, prefix)) and sum(map(len, found.values())) >= count and found,
                      WAIT_SECONDS, f"{count} captured record(s) under s3://{bucket}/{prefix}")


def test_every_invocation_is_captured_with_input_and_output_at_full_sampling(sagemaker, runtime, s3, bucket,
                                                                              model) -> None:
    destination = f"s3://{bucket}/{unique('datacapture')}"
    name = deploy_with_capture(sagemaker, model, {**FULL_CAPTURE, "DestinationS3Uri": destination})
    bodies = [csv_body(rows(1, seed)) for seed in (1, 2, 3)]
    answers = []
    for body in bodies:
        response = runtime.invoke_endpoint(EndpointName=name, Body=body, ContentType="text/csv")
        answers.append((response["ContentType"], response["Body"].read().decode()))

    prefix = f"{destination.split('/', 3)[3]}/{name}/AllTraffic/"
    found = wait_for_records(s3, bucket, prefix, len(bodies))
    records = [record for key in sorted(found) for record in found[key]]
    assert len(records) == len(bodies)
    for key, lines in found.items():
        folder, file_name = key[len(prefix):].rsplit("/", 1)
        assert KEY_NAME.fullmatch(file_name), key
        hours = {datetime.strptime(line["eventMetadata"]["inferenceTime"], "%Y-%m-%dT%H:%M:%SZ").strftime("%Y/%m/%d/%H")
                 for line in lines}
        assert hours == {folder}, f"{key} holds records of other hours: {hours}"
    by_input = {record["captureData"]["endpointInput"]["data"]: record for record in records}
    assert sorted(by_input) == sorted(body.decode() for body in bodies)
    for body, (content_type, answer) in zip(bodies, answers, strict=True):
        record = by_input[body.decode()]
        assert record["captureData"] == {
            "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": body.decode(), "encoding": "CSV"},
            "endpointOutput": {"observedContentType": content_type, "mode": "OUTPUT", "data": answer, "encoding": "CSV"},
        }
        assert record["eventVersion"] == "0"
        assert set(record["eventMetadata"]) == {"eventId", "inferenceTime"}
        uuid.UUID(record["eventMetadata"]["eventId"])
    assert len({record["eventMetadata"]["eventId"] for record in records}) == len(records)


def test_capture_options_and_content_type_header_choose_sides_and_encoding(sagemaker, runtime, s3, bucket,
                                                                          model) -> None:
    destination = f"s3://{bucket}/{unique('datacapture')}/"
    name = deploy_with_capture(sagemaker, model, {"InitialSamplingPercentage": 100, "DestinationS3Uri": destination,
                                                  "CaptureOptions": [{"CaptureMode": "Input"}]})
    body = csv_body(rows(2, 7))
    runtime.invoke_endpoint(EndpointName=name, Body=body, ContentType="text/csv")

    [lines] = wait_for_records(s3, bucket, f"{destination.split('/', 3)[3]}{name}/AllTraffic/", 1).values()
    # Input only; without CaptureContentTypeHeader AWS base64-encodes every payload
    assert lines[0]["captureData"] == {"endpointInput": {
        "observedContentType": "text/csv", "mode": "INPUT", "data": base64.b64encode(body).decode(), "encoding": "BASE64"}}


def test_nothing_is_written_when_capture_is_disabled(sagemaker, runtime, s3, bucket, model) -> None:
    folder = unique("datacapture")
    destination = f"s3://{bucket}/{folder}"
    disabled = deploy_with_capture(sagemaker, model, {**FULL_CAPTURE, "EnableCapture": False,
                                                      "DestinationS3Uri": destination})
    without = deploy_with_capture(sagemaker, model, None)
    capturing = deploy_with_capture(sagemaker, model, {**FULL_CAPTURE, "DestinationS3Uri": destination})
    body = csv_body(rows(1, 11))
    for name in (disabled, without, capturing):  # the capturing endpoint last: its object shows the writer got here
        runtime.invoke_endpoint(EndpointName=name, Body=body, ContentType="text/csv")

    wait_for_records(s3, bucket, f"{folder}/{capturing}/", 1)
    assert sorted({key.split("/")[1] for key in captured(s3, bucket, f"{folder}/")}) == [capturing]
    assert captured(s3, bucket, f"{folder}/{disabled}/") == {}
    assert sagemaker.describe_endpoint(EndpointName=disabled)["DataCaptureConfig"]["CaptureStatus"] == "Stopped"
    assert "DataCaptureConfig" not in sagemaker.describe_endpoint(EndpointName=without)


def test_describe_endpoint_shows_capture_started_and_config_echoes_it(sagemaker, bucket, model) -> None:
    destination = f"s3://{bucket}/{unique('datacapture')}"
    capture = {**FULL_CAPTURE, "InitialSamplingPercentage": 40, "DestinationS3Uri": destination,
               "KmsKeyId": "alias/capture-key"}
    name = deploy_with_capture(sagemaker, model, capture)

    described = sagemaker.describe_endpoint(EndpointName=name)
    assert described["DataCaptureConfig"] == {"EnableCapture": True, "CaptureStatus": "Started",
                                              "CurrentSamplingPercentage": 40, "DestinationS3Uri": destination,
                                              "KmsKeyId": "alias/capture-key"}
    config = sagemaker.describe_endpoint_config(EndpointConfigName=described["EndpointConfigName"])
    assert config["DataCaptureConfig"] == capture


@pytest.mark.parametrize(("change", "field", "constraint"), [
    ({"InitialSamplingPercentage": 150}, "dataCaptureConfig.initialSamplingPercentage",
     "Member must have value less than or equal to 100"),
    ({"InitialSamplingPercentage": -1}, "dataCaptureConfig.initialSamplingPercentage",
     "Member must have value greater than or equal to 0"),
    ({"CaptureOptions": []}, "dataCaptureConfig.captureOptions", "Member must have length greater than or equal to 1"),
    ({"CaptureOptions": [{"CaptureMode": "Both"}]}, "dataCaptureConfig.captureOptions.1.member.captureMode",
     "Member must satisfy enum value set: [Input, Output, InputAndOutput]"),
    ({"DestinationS3Uri": "ftp://bucket/capture"}, "dataCaptureConfig.destinationS3Uri",
     "Member must satisfy regular expression pattern"),
    ({"CaptureContentTypeHeader": {"CsvContentTypes": ["not a type"]}},
     "dataCaptureConfig.captureContentTypeHeader.csvContentTypes", "Member must satisfy constraint"),
], ids=["sampling-over-100", "sampling-negative", "no-capture-options", "unknown-capture-mode", "not-s3",
        "bad-content-type"])
def test_bad_data_capture_config_is_refused_naming_the_field(endpoint, bucket, model, change, field,
                                                             constraint) -> None:
    import boto3

    # botocore refuses some of these (an empty list, a negative number) before sending: the endpoint's own check is tested
    sagemaker = boto3.session.Session(region_name="us-east-1").client(
        "sagemaker", endpoint_url=endpoint, config=Config(parameter_validation=False))
    name = unique("config")
    capture = {**FULL_CAPTURE, "DestinationS3Uri": f"s3://{bucket}/capture", **change}
    with pytest.raises(ClientError) as refused:
        sagemaker.create_endpoint_config(EndpointConfigName=name, DataCaptureConfig=capture, ProductionVariants=[
            {"VariantName": "AllTraffic", "ModelName": model, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}])
    error = refused.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert error["Message"].startswith("1 validation error detected: Value ")
    assert f"at '{field}' failed to satisfy constraint: {constraint}" in error["Message"]
    with pytest.raises(ClientError, match="Could not find endpoint configuration"):
        sagemaker.describe_endpoint_config(EndpointConfigName=name)


def test_invocation_answers_and_failure_is_logged_when_capture_cannot_be_written(sagemaker, runtime, model,
                                                                                  caplog) -> None:
    missing = unique("no-such-bucket")
    name = deploy_with_capture(sagemaker, model, {**FULL_CAPTURE, "DestinationS3Uri": f"s3://{missing}/capture"})
    caplog.set_level(logging.WARNING, logger="devtools.local_sagemaker.data_capture")

    response = runtime.invoke_endpoint(EndpointName=name, Body=csv_body(rows(1, 5)), ContentType="text/csv")

    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert len(response["Body"].read().decode().splitlines()) == 1
    wait_until(lambda: any(name in record.getMessage() and missing in record.getMessage() for record in caplog.records),
               WAIT_SECONDS, f"a logged capture failure naming {name} and {missing}")
