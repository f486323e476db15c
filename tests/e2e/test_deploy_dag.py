"""The deploy DAG end to end on the local endpoint: a trained, approved model behind a real-time endpoint, proven
to answer, updated blue/green with traffic running, rolled back when the new model answers badly or cannot load."""

from __future__ import annotations

import json
import os
import threading
from typing import Any

from tests.local_sagemaker.serving import put_artifact, tar_gz
from tests.support.dag_runs import DagRunResult
from tests.support.deployed_models import (
    captured_records,
    endpoint_name,
    trained_and_approved,
)

DEPLOYED = {"choose_model": "success", "create_model": "success", "create_endpoint_config": "success",
            "deploy_endpoint": "success", "verify_endpoint": "success", "smoke_test": "success",
            "roll_back": "skipped", "notify": "success"}


def served_package(sagemaker: Any, endpoint: str) -> str:
    config = sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    model = sagemaker.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"][0]["ModelName"]
    return sagemaker.describe_model(ModelName=model)["PrimaryContainer"]["ModelPackageName"]


def package_like(sagemaker: Any, source_arn: str, *, model_data: str | None = None, status: str = "Approved") -> str:
    """Another version in the source's group: the same report (so the same held-out rows), maybe another model."""
    source = sagemaker.describe_model_package(ModelPackageName=source_arn)
    container = dict(source["InferenceSpecification"]["Containers"][0])
    if model_data:
        container["ModelDataUrl"] = model_data
    return sagemaker.create_model_package(
        ModelPackageGroupName=source["ModelPackageGroupName"], ModelApprovalStatus=status,
        InferenceSpecification={**source["InferenceSpecification"], "Containers": [container]},
        ModelMetrics=source["ModelMetrics"], CustomerMetadataProperties=source.get("CustomerMetadataProperties", {}),
    )["ModelPackageArn"]


def constant_model(s3: Any, bucket: str) -> str:
    """An XGBoost model that answers the same score for every row (no trees): it loads, and ranks nothing."""
    import numpy as np
    import xgboost as xgb

    features = np.zeros((4, 8))
    booster = xgb.train({"objective": "binary:logistic"}, xgb.DMatrix(features, label=[0, 1, 0, 1]), 0)
    return put_artifact(s3, bucket, {"xgboost-model": bytes(booster.save_raw("json"))})


def test_an_approved_model_is_deployed_and_smoke_tested_a_second_run_changes_nothing_and_an_unapproved_one_is_refused(
    run_training_dag, run_deploy_dag, deployment, endpoint_client, monkeypatch
) -> None:
    sagemaker = endpoint_client("sagemaker")
    package = trained_and_approved(run_training_dag)
    settings = json.loads(os.environ["AIRFLOW_VAR_SAGEMAKER_PIPELINES_SETTINGS"])  # every request captured
    monkeypatch.setenv("AIRFLOW_VAR_SAGEMAKER_PIPELINES_SETTINGS", json.dumps({**settings, "data_capture_percent": 100}))

    deployed: DagRunResult = run_deploy_dag()  # no version: the group's newest Approved package
    assert deployed.state == "success", deployed.task_states
    assert deployed.task_states == DEPLOYED
    endpoint = endpoint_name(deployment)
    assert sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointStatus"] == "InService"
    assert served_package(sagemaker, endpoint) == package
    smoke = deployed.xcoms[("smoke_test", "return_value")]
    assert abs(smoke["value"] - smoke["package_value"]) <= smoke["tolerance"] and smoke["rows"] > 50
    assert deployed.note.startswith("**DEPLOYED** · data 2024-03-01 · AUC ")
    config = sagemaker.describe_endpoint_config(EndpointConfigName=sagemaker.describe_endpoint(
        EndpointName=endpoint)["EndpointConfigName"])
    assert config["DataCaptureConfig"]["DestinationS3Uri"] == f"s3://{deployment.bucket}/data-capture"
    captured = captured_records(endpoint_client("s3"), deployment.bucket, f"data-capture/{endpoint}/AllTraffic/",
                                smoke["rows"])  # the smoke test's invocations, each a request and its answer
    assert {record["captureData"]["endpointInput"]["encoding"] for record in captured} == {"CSV"}
    assert all(record["captureData"]["endpointOutput"]["data"] for record in captured)

    again = run_deploy_dag(conf={"package_version": 1})  # a cleared or repeated run: nothing created twice
    assert again.state == "success", again.task_states
    assert again.xcoms[("choose_model", "return_value")]["action"] == "unchanged"
    assert again.note.startswith("**UNCHANGED**")
    assert len(sagemaker.list_models(NameContains=endpoint)["Models"]) == 1
    assert len(sagemaker.list_endpoint_configs(NameContains=endpoint)["EndpointConfigs"]) == 1

    pending = package_like(sagemaker, package, status="PendingManualApproval")
    refused = run_deploy_dag(conf={"package_version": int(pending.rsplit("/", 1)[-1])})
    assert refused.state == "failed" and refused.task_states["choose_model"] == "failed"
    assert refused.task_states["roll_back"] == "skipped"
    assert "is PendingManualApproval: only an Approved package is deployed" in refused.log
    assert refused.note.startswith("**FAILED** at choose_model")
    assert served_package(sagemaker, endpoint) == package
    assert len(sagemaker.list_models(NameContains=endpoint)["Models"]) == 1


def test_an_update_serves_every_invocation_and_a_bad_model_or_a_failed_update_is_rolled_back(
    run_training_dag, run_deploy_dag, deployment, endpoint_client
) -> None:
    sagemaker, s3, runtime = endpoint_client("sagemaker"), endpoint_client("s3"), endpoint_client("sagemaker-runtime")
    first = trained_and_approved(run_training_dag)
    assert run_deploy_dag(conf={"package_version": 1}).state == "success"
    endpoint = endpoint_name(deployment)

    # An update to a newer version while clients call the endpoint: none of their calls fails.
    newer = package_like(sagemaker, first)
    failures, calls, done = [], [0], threading.Event()

    def traffic() -> None:
        while not done.is_set():
            try:
                runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=b"3,32,9,3,3,17,2,5")
                calls[0] += 1
            except Exception as error:  # every failure is the finding
                failures.append(error)

    caller = threading.Thread(target=traffic)
    caller.start()
    try:
        updated = run_deploy_dag()
    finally:
        done.set()
        caller.join()
    assert updated.state == "success", updated.task_states
    assert served_package(sagemaker, endpoint) == newer
    assert failures == [] and calls[0] > 0

    # A model that answers the same score for every row: it loads, fails the smoke test, and is rolled back.
    constant = package_like(sagemaker, first, model_data=constant_model(s3, deployment.bucket))
    rolled = run_deploy_dag()
    assert rolled.state == "failed", rolled.task_states
    assert rolled.task_states["smoke_test"] == "failed" and rolled.task_states["roll_back"] == "failed"
    assert served_package(sagemaker, endpoint) == newer != constant
    assert rolled.note.startswith("**ROLLED BACK**")
    assert "Rolled back: endpoint" in rolled.note and "is worse than the package's" in rolled.note

    # A model that cannot load: the update fails, SageMaker keeps the old config, the check says so.
    broken = package_like(sagemaker, first, model_data=put_artifact(s3, deployment.bucket, tar_gz(
        {"xgboost-model": b"?"})))
    failed = run_deploy_dag(conf={"package_version": int(broken.rsplit("/", 1)[-1])})
    assert failed.state == "failed", failed.task_states
    assert failed.task_states["verify_endpoint"] == "failed" and failed.task_states["smoke_test"] == "upstream_failed"
    assert "did not take" in failed.note and "Rolled back" in failed.note
    assert served_package(sagemaker, endpoint) == newer
    assert sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointStatus"] == "InService"

    # An older version than the one served is refused, unless asked for as a rollback.
    older = run_deploy_dag(conf={"package_version": 1})
    assert older.state == "failed" and "newer than version 1" in older.log
    back = run_deploy_dag(conf={"package_version": 1, "rollback": True})
    assert back.state == "success", back.task_states
    assert served_package(sagemaker, endpoint) == first
