"""Real-time endpoints on the local endpoint: real model servers, AWS's lifecycle, statuses and errors.

Every test drives the session's endpoint with boto3 as a user would, and checks what the model
servers really answer (compared with the same model run in this process) and what /proc shows
of their processes.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .endpoint_process import wait_until
from .serving import (
    ROLE,
    SKLEARN_IMAGE,
    XGBOOST_IMAGE,
    create_config,
    create_model,
    csv_body,
    deploy,
    in_process,
    listening_addresses,
    predictions,
    put_artifact,
    rows,
    server_pids,
    sklearn_script_artifact,
    train_booster,
    unique,
    wait_endpoint,
    xgboost_artifact,
)

pytestmark = [pytest.mark.skipif(not sys.platform.startswith("linux"), reason="model servers are found through /proc"),
              pytest.mark.usefixtures("delete_endpoints_after")]

ONE_ROW = csv_body(rows(1, 100))
THOUSAND_ROWS = csv_body(rows(1000, 101))


@pytest.fixture(scope="module")
def boosters() -> tuple[Any, Any]:
    return train_booster(1), train_booster(2)


def test_create_invoke_update_delete_lifecycle(sagemaker, runtime, s3, bucket, endpoint_client, boosters) -> None:
    first, second = boosters
    model = create_model(sagemaker, xgboost_artifact(s3, bucket, first))
    config = create_config(sagemaker, [("AllTraffic", model, 1.0, 1)])
    name = unique("lifecycle")
    arn = sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=config)["EndpointArn"]
    assert arn.endswith(f":endpoint/{name}")
    assert sagemaker.describe_endpoint(EndpointName=name)["EndpointStatus"] == "Creating"
    with pytest.raises(ClientError) as creating:  # a model server takes a second to start: it is still Creating
        runtime.invoke_endpoint(EndpointName=name, Body=ONE_ROW, ContentType="text/csv")
    assert creating.value.response["Error"] == {
        "Code": "ValidationError", "Message": f"Endpoint {name} of account 123456789012 is not in service: its status is Creating."}
    described = wait_endpoint(sagemaker, name)
    assert described["EndpointStatus"] == "InService", described.get("FailureReason")
    variant = described["ProductionVariants"][0]
    assert (variant["VariantName"], variant["CurrentInstanceCount"], variant["DesiredInstanceCount"]) == ("AllTraffic", 1, 1)
    assert variant["DeployedImages"][0]["SpecifiedImage"].endswith("sagemaker-xgboost:1.7-1")
    [first_pid] = server_pids(name)
    [(address, port)] = listening_addresses(first_pid)
    assert address == "127.0.0.1" and port != 8080, "a model server listens beyond loopback or on a fixed port"

    assert predictions(runtime, name, THOUSAND_ROWS) == in_process(first, THOUSAND_ROWS)
    streams = endpoint_client("logs").describe_log_streams(logGroupName=f"/aws/sagemaker/Endpoints/{name}")["logStreams"]
    assert [stream["logStreamName"].split("/")[0] for stream in streams] == ["AllTraffic"]
    assert streams[0]["logStreamName"].split("/")[1].startswith("i-")

    updated = create_config(sagemaker, [("AllTraffic", create_model(sagemaker, xgboost_artifact(s3, bucket, second)), 1.0, 1)])
    sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=updated)
    updating = sagemaker.describe_endpoint(EndpointName=name)
    assert updating["EndpointStatus"] == "Updating"
    assert updating["EndpointConfigName"] == config  # the old config serves until the new one does
    assert updating["PendingDeploymentSummary"]["EndpointConfigName"] == updated
    with pytest.raises(ClientError, match="Cannot update in-progress endpoint"):
        sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=updated)
    # Blue/green: the new config's server starts while the old one still runs (and serves).
    wait_until(lambda: set(server_pids(name)) - {first_pid}, 60, "the new config's server did not start")
    assert first_pid in server_pids(name), "the old server stopped before the new one was up"
    assert wait_endpoint(sagemaker, name)["EndpointConfigName"] == updated
    assert predictions(runtime, name, THOUSAND_ROWS) == in_process(second, THOUSAND_ROWS)
    assert first_pid not in server_pids(name), "the old variant's server still runs after the update"
    assert len(server_pids(name)) == 1

    sagemaker.delete_endpoint(EndpointName=name)
    assert server_pids(name) == []
    with pytest.raises(ClientError, match="Could not find endpoint"):
        sagemaker.describe_endpoint(EndpointName=name)
    with pytest.raises(ClientError) as gone:
        runtime.invoke_endpoint(EndpointName=name, Body=ONE_ROW, ContentType="text/csv")
    assert gone.value.response["Error"] == {"Code": "ValidationError", "Message": f"Endpoint {name} of account 123456789012 not found."}


def test_the_built_in_algorithms_content_types_and_accepts(sagemaker, runtime, s3, bucket, boosters) -> None:
    booster = boosters[0]
    name = deploy(sagemaker, xgboost_artifact(s3, bucket, booster))
    expected = in_process(booster, THOUSAND_ROWS)
    assert predictions(runtime, name, ONE_ROW) == in_process(booster, ONE_ROW)
    missing_value = b"0.5,,0.2,0.3"  # an empty field is a missing value (NaN), as the container reads it
    assert predictions(runtime, name, missing_value) == in_process(booster, b"0.5,nan,0.2,0.3")
    as_json = runtime.invoke_endpoint(EndpointName=name, Body=THOUSAND_ROWS, ContentType="text/csv", Accept="application/json")
    assert as_json["ContentType"] == "application/json"
    assert [item["score"] for item in json.loads(as_json["Body"].read())["predictions"]] == expected
    lines = runtime.invoke_endpoint(EndpointName=name, Body=ONE_ROW, ContentType="text/csv", Accept="application/jsonlines")
    assert [json.loads(line)["score"] for line in lines["Body"].read().decode().splitlines()] == in_process(booster, ONE_ROW)
    libsvm = "\n".join("0 " + " ".join(f"{index + 1}:{value}" for index, value in enumerate(row.split(",")))
                       for row in THOUSAND_ROWS.decode().splitlines()).encode()
    scored = runtime.invoke_endpoint(EndpointName=name, Body=libsvm, ContentType="text/libsvm")["Body"].read()
    assert [float(line) for line in scored.decode().splitlines()] == pytest.approx(expected, rel=1e-6)

    with pytest.raises(ClientError) as unreadable:
        runtime.invoke_endpoint(EndpointName=name, Body=b'{"instances": [[1, 2, 3, 4]]}', ContentType="application/json")
    error = unreadable.value.response
    assert error["Error"]["Code"] == "ModelError"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert error["OriginalStatusCode"] == 415
    assert error["OriginalMessage"] == "Content-type application/json is not supported."
    assert error["Error"]["Message"].startswith('Received client error (415) from primary with message "Content-type')
    assert error["LogStreamArn"].endswith(f":log-group:/aws/sagemaker/Endpoints/{name}")
    with pytest.raises(ClientError) as unwritable:
        runtime.invoke_endpoint(EndpointName=name, Body=ONE_ROW, ContentType="text/csv", Accept="image/png")
    assert unwritable.value.response["OriginalStatusCode"] == 406
    with pytest.raises(ClientError) as malformed:
        runtime.invoke_endpoint(EndpointName=name, Body=b"1,2,x,4", ContentType="text/csv")
    assert malformed.value.response["OriginalStatusCode"] == 415
    assert "please ensure data is in csv format" in malformed.value.response["OriginalMessage"]


def test_a_payload_over_6_mb_is_refused_before_any_model_sees_it(sagemaker, runtime, s3, bucket, boosters) -> None:
    name = deploy(sagemaker, xgboost_artifact(s3, bucket, boosters[0]))
    with pytest.raises(ClientError) as refused:
        runtime.invoke_endpoint(EndpointName=name, Body=b"0" * (6 * 1024 * 1024 + 1), ContentType="text/csv")
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert refused.value.response["Error"]["Message"] == "HTTP content length exceeded 6291456 bytes."
    assert predictions(runtime, name, ONE_ROW) == in_process(boosters[0], ONE_ROW)  # it still serves


def test_a_model_that_cannot_load_fails_the_endpoint_with_the_reason(sagemaker, runtime, s3, bucket) -> None:
    not_an_archive = deploy(sagemaker, put_artifact(s3, bucket, b"plain bytes"), wait=False)
    not_a_model = deploy(sagemaker, put_artifact(s3, bucket, {"xgboost-model": b"garbage"}), wait=False)
    unknown_image = deploy(sagemaker, put_artifact(s3, bucket, {"xgboost-model": b"x"}), wait=False,
                           image="123456789012.dkr.ecr.us-east-1.amazonaws.com/my-own-server:latest")
    missing = deploy(sagemaker, f"s3://{bucket}/models/nothing-here/model.tar.gz", wait=False)

    reasons = {}
    for name in (not_an_archive, not_a_model, unknown_image, missing):
        described = wait_endpoint(sagemaker, name)
        assert described["EndpointStatus"] == "Failed"
        reasons[name] = described["FailureReason"]
        assert server_pids(name) == []
    assert "is not a tar.gz archive" in reasons[not_an_archive]
    assert reasons[not_a_model].startswith("The primary container for production variant AllTraffic did not pass the ping health check")
    assert "The model cannot be loaded" in reasons[not_a_model]
    assert "my-own-server:latest" in reasons[unknown_image] and "cannot be served" in reasons[unknown_image]
    assert "nothing-here/model.tar.gz cannot be read" in reasons[missing]

    with pytest.raises(ClientError) as refused:
        runtime.invoke_endpoint(EndpointName=not_a_model, Body=ONE_ROW, ContentType="text/csv")
    assert refused.value.response["Error"]["Code"] == "ValidationError"
    assert "is not in service" in refused.value.response["Error"]["Message"]
    with pytest.raises(ClientError, match="failed endpoint"):
        sagemaker.update_endpoint(EndpointName=not_a_model, EndpointConfigName=sagemaker.describe_endpoint(
            EndpointName=not_a_model)["EndpointConfigName"])
    sagemaker.delete_endpoint(EndpointName=not_a_model)  # the one operation a Failed endpoint allows


INFERENCE_PY = """
import json, os, pickle
import numpy as np

def model_fn(model_dir):
    with open(os.path.join(model_dir, "model.pkl"), "rb") as handle:
        return pickle.load(handle)

def input_fn(body, content_type):
    assert content_type == "application/json", content_type
    return np.array(json.loads(body)["instances"])

def predict_fn(data, model):
    if data.shape[1] != 4:
        raise ValueError(f"expected 4 features, got {data.shape[1]}")
    return model.predict_proba(data)[:, 1]

def output_fn(prediction, accept):
    return json.dumps({"probabilities": prediction.tolist()}), "application/json"
"""


def test_script_mode_inference_py_serves_and_its_errors_are_model_errors(sagemaker, runtime, s3, bucket) -> None:
    from sklearn.linear_model import LogisticRegression

    features = rows(200, 7)
    estimator = LogisticRegression().fit(features, (features[:, 0] > 0).astype(int))
    name = deploy(sagemaker, sklearn_script_artifact(s3, bucket, estimator, INFERENCE_PY), image=SKLEARN_IMAGE,
                  environment={"SAGEMAKER_PROGRAM": "inference.py"})
    sample = rows(5, 8)
    answer = runtime.invoke_endpoint(EndpointName=name, Body=json.dumps({"instances": sample.tolist()}),
                                     ContentType="application/json", Accept="application/json")
    assert answer["ContentType"] == "application/json"
    assert json.loads(answer["Body"].read())["probabilities"] == estimator.predict_proba(sample)[:, 1].tolist()

    with pytest.raises(ClientError) as raised:
        runtime.invoke_endpoint(EndpointName=name, Body=json.dumps({"instances": [[1.0, 2.0]]}), ContentType="application/json")
    error = raised.value.response
    assert error["Error"]["Code"] == "ModelError"
    assert error["OriginalStatusCode"] == 500
    assert "expected 4 features, got 2" in error["OriginalMessage"]
    assert "Traceback" in error["OriginalMessage"]  # the toolkit answers the error with its traceback
    assert error["Error"]["Message"].startswith("Received server error (500) from primary")
    assert json.loads(runtime.invoke_endpoint(EndpointName=name, Body=json.dumps({"instances": sample.tolist()}),
                                              ContentType="application/json")["Body"].read())["probabilities"]


def test_script_mode_without_model_fn_fails_to_load(sagemaker, s3, bucket) -> None:
    from sklearn.linear_model import LogisticRegression

    features = rows(50, 9)
    artifact = sklearn_script_artifact(s3, bucket, LogisticRegression().fit(features, features[:, 0] > 0), "x = 1\n")
    name = deploy(sagemaker, artifact, image=SKLEARN_IMAGE, environment={"SAGEMAKER_PROGRAM": "inference.py"}, wait=False)
    described = wait_endpoint(sagemaker, name)
    assert described["EndpointStatus"] == "Failed"
    assert "defines no model_fn" in described["FailureReason"]


def test_a_killed_server_process_is_replaced_and_the_endpoint_stays_in_service(sagemaker, runtime, s3, bucket, endpoint_client, boosters) -> None:
    name = deploy(sagemaker, xgboost_artifact(s3, bucket, boosters[0]))
    [killed] = server_pids(name)
    os.kill(killed, signal.SIGKILL)
    replacement = wait_until(lambda: [pid for pid in server_pids(name) if pid != killed], 60, "no replacement server started")
    assert sagemaker.describe_endpoint(EndpointName=name)["EndpointStatus"] == "InService"
    # An invocation during the replacement waits for the new instance rather than failing.
    assert predictions(runtime, name, ONE_ROW) == in_process(boosters[0], ONE_ROW)
    assert server_pids(name) == replacement
    streams = endpoint_client("logs").describe_log_streams(logGroupName=f"/aws/sagemaker/Endpoints/{name}")["logStreams"]
    assert len(streams) == 2, "the replacement is a new instance with a log stream of its own"


def test_update_under_load_fails_no_invocation(sagemaker, runtime, s3, bucket, boosters) -> None:
    first, second = boosters
    name = deploy(sagemaker, xgboost_artifact(s3, bucket, first))
    old_answer, new_answer = in_process(first, ONE_ROW), in_process(second, ONE_ROW)
    assert old_answer != new_answer
    updated = create_config(sagemaker, [("Blue", create_model(sagemaker, xgboost_artifact(s3, bucket, second)), 1.0, 1)])
    answers: list[tuple[str, list[float]]] = []
    failures: list[str] = []
    done = threading.Event()

    def client() -> None:
        while not done.is_set():
            try:
                response = runtime.invoke_endpoint(EndpointName=name, Body=ONE_ROW, ContentType="text/csv")
                scores = [float(line) for line in response["Body"].read().decode().splitlines()]
                answers.append((response["InvokedProductionVariant"], scores))
            except Exception as error:  # every failure is counted, whatever it is
                failures.append(f"{type(error).__name__}: {error}")

    clients = [threading.Thread(target=client) for _ in range(4)]
    for thread in clients:
        thread.start()
    try:
        wait_until(lambda: len(answers) >= 20, 60, "the clients got no answers before the update")
        sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=updated)
        assert wait_endpoint(sagemaker, name, statuses=("InService",))["EndpointConfigName"] == updated
        served_after = len(answers)
        wait_until(lambda: len(answers) >= served_after + 20, 60, "the clients got no answers after the update")
    finally:
        done.set()
        for thread in clients:
            thread.join(60)
    assert failures == []
    assert set(map(tuple, (scores for _, scores in answers))) == {tuple(old_answer), tuple(new_answer)}
    assert answers[-1] == ("Blue", new_answer)
    assert {variant for variant, scores in answers if scores == old_answer} == {"AllTraffic"}


def test_a_failed_update_leaves_the_old_config_serving_and_says_why(sagemaker, runtime, s3, bucket, boosters) -> None:
    name = deploy(sagemaker, xgboost_artifact(s3, bucket, boosters[0]))
    serving = sagemaker.describe_endpoint(EndpointName=name)["EndpointConfigName"]
    [serving_pid] = server_pids(name)
    broken = create_config(sagemaker, [("AllTraffic", create_model(sagemaker, put_artifact(s3, bucket, {"xgboost-model": b"?"})), 1.0, 1)])
    sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=broken)
    described = wait_endpoint(sagemaker, name, statuses=("InService",))
    assert described["EndpointConfigName"] == serving
    assert f"Updating to endpoint configuration '{broken}' failed" in described["FailureReason"]
    assert "did not pass the ping health check" in described["FailureReason"]
    assert server_pids(name) == [serving_pid]
    assert predictions(runtime, name, ONE_ROW) == in_process(boosters[0], ONE_ROW)


def test_target_variant_and_weights_route_between_variants(sagemaker, runtime, s3, bucket, boosters) -> None:
    second = boosters[1]
    models = [create_model(sagemaker, xgboost_artifact(s3, bucket, booster)) for booster in boosters]
    config = create_config(sagemaker, [("Champion", models[0], 1.0, 2), ("Challenger", models[1], 0.0, 1)])
    name = unique("variants")
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=config)
    described = wait_endpoint(sagemaker, name)
    assert {variant["VariantName"]: variant["CurrentInstanceCount"] for variant in described["ProductionVariants"]} == {
        "Champion": 2, "Challenger": 1}
    assert len(server_pids(name)) == 3
    for _ in range(10):  # weight 0: the challenger gets only what targets it
        response = runtime.invoke_endpoint(EndpointName=name, Body=ONE_ROW, ContentType="text/csv")
        assert response["InvokedProductionVariant"] == "Champion"
    targeted = runtime.invoke_endpoint(EndpointName=name, Body=ONE_ROW, ContentType="text/csv", TargetVariant="Challenger")
    assert targeted["InvokedProductionVariant"] == "Challenger"
    assert [float(v) for v in targeted["Body"].read().decode().split()] == in_process(second, ONE_ROW)
    with pytest.raises(ClientError) as unknown:
        runtime.invoke_endpoint(EndpointName=name, Body=ONE_ROW, ContentType="text/csv", TargetVariant="Nobody")
    assert unknown.value.response["Error"]["Code"] == "ValidationError"
    assert "Nobody" in unknown.value.response["Error"]["Message"]

    # Shift all traffic to the challenger: the weights apply to the next invocations.
    sagemaker.update_endpoint_weights_and_capacities(EndpointName=name, DesiredWeightsAndCapacities=[
        {"VariantName": "Champion", "DesiredWeight": 0.0}, {"VariantName": "Challenger", "DesiredWeight": 1.0}])
    assert {variant["VariantName"]: variant["CurrentWeight"] for variant in sagemaker.describe_endpoint(
        EndpointName=name)["ProductionVariants"]} == {"Champion": 0.0, "Challenger": 1.0}
    for _ in range(10):
        response = runtime.invoke_endpoint(EndpointName=name, Body=ONE_ROW, ContentType="text/csv")
        assert response["InvokedProductionVariant"] == "Challenger"
    with pytest.raises(ClientError, match="does not scale a variant"):
        sagemaker.update_endpoint_weights_and_capacities(EndpointName=name, DesiredWeightsAndCapacities=[
            {"VariantName": "Champion", "DesiredInstanceCount": 3}])


def test_a_model_from_an_approved_package_serves_an_unapproved_one_is_refused(sagemaker, runtime, s3, bucket, boosters) -> None:
    group = unique("serving-group")
    sagemaker.create_model_package_group(ModelPackageGroupName=group)

    def register(status: str) -> str:
        return sagemaker.create_model_package(ModelPackageGroupName=group, ModelApprovalStatus=status, InferenceSpecification={
            "Containers": [{"Image": XGBOOST_IMAGE, "ModelDataUrl": xgboost_artifact(s3, bucket, boosters[0])}],
            "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"]})["ModelPackageArn"]

    approved, pending = register("Approved"), register("PendingManualApproval")
    with pytest.raises(ClientError, match="PendingManualApproval") as refused:
        sagemaker.create_model(ModelName=unique("model"), ExecutionRoleArn=ROLE, PrimaryContainer={"ModelPackageName": pending})
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    model = unique("model")
    sagemaker.create_model(ModelName=model, ExecutionRoleArn=ROLE, PrimaryContainer={"ModelPackageName": approved})
    assert sagemaker.describe_model(ModelName=model)["PrimaryContainer"]["ModelPackageName"] == approved
    name = unique("from-package")
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=create_config(sagemaker, [("AllTraffic", model, 1.0, 1)]))
    assert wait_endpoint(sagemaker, name)["EndpointStatus"] == "InService"
    assert predictions(runtime, name, ONE_ROW) == in_process(boosters[0], ONE_ROW)


def test_models_configs_and_endpoints_refuse_what_aws_refuses(sagemaker, s3, bucket, boosters) -> None:
    model = create_model(sagemaker, xgboost_artifact(s3, bucket, boosters[0]))
    with pytest.raises(ClientError, match="Cannot create already existing model"):
        sagemaker.create_model(ModelName=model, ExecutionRoleArn=ROLE, PrimaryContainer={"Image": "x"})
    with pytest.raises(ClientError, match="Could not find model") as missing_model:
        create_config(sagemaker, [("AllTraffic", "no-such-model", 1.0, 1)])
    assert missing_model.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError, match="must be unique"):
        create_config(sagemaker, [("Same", model, 1.0, 1), ("Same", model, 1.0, 1)])
    config = create_config(sagemaker, [("AllTraffic", model, 1.0, 1)])
    with pytest.raises(ClientError, match="Cannot create already existing endpoint configuration"):
        sagemaker.create_endpoint_config(EndpointConfigName=config, ProductionVariants=[
            {"VariantName": "AllTraffic", "ModelName": model, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}])
    with pytest.raises(ClientError, match="Could not find endpoint configuration"):
        sagemaker.create_endpoint(EndpointName=unique("endpoint"), EndpointConfigName="no-such-config")
    name = unique("endpoint")
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=config)
    with pytest.raises(ClientError, match="Cannot create already existing endpoint"):
        sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=config)
    with pytest.raises(ClientError, match="Could not find endpoint"):
        sagemaker.update_endpoint(EndpointName="no-such-endpoint", EndpointConfigName=config)
    assert sagemaker.describe_model(ModelName=model)["PrimaryContainer"]["ModelDataUrl"].endswith("model.tar.gz")
    sagemaker.delete_model(ModelName=model)
    with pytest.raises(ClientError, match="Could not find model"):
        sagemaker.describe_model(ModelName=model)
    wait_endpoint(sagemaker, name)
    sagemaker.delete_endpoint(EndpointName=name)
    assert server_pids(name) == []
