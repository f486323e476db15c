"""The definition builds offline and declares what the DAG sends."""

from __future__ import annotations

import json
import socket

import pytest

from include.pipelines.contract import AUC_JSON_PATH, PARAMETER_TYPES
from include.pipelines.sdk_session import boto3_session
from include.pipelines.settings import PipelineSettings
from include.pipelines.upsert import build_definition
from tests.support.constants import ROLE_ARN

SETTINGS = PipelineSettings(region="eu-west-1", role_arn=ROLE_ARN,
                            bucket="offline-bucket", cache_preprocessing=True)


@pytest.fixture(scope="module")
def offline_definition() -> dict:
    """Built with every socket connection refused, loopback included."""
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError(f"network access attempted: {address}")

    original = socket.socket.connect
    socket.socket.connect = refuse  # type: ignore[method-assign]
    try:
        text = build_definition(SETTINGS, boto3_session("eu-west-1", "http://127.0.0.1:9"))
    finally:
        socket.socket.connect = original  # type: ignore[method-assign]
    assert attempts == [], f"building the definition tried to connect to {attempts}"
    return json.loads(text)


def test_definition_builds_without_any_network_connection(offline_definition: dict) -> None:
    assert offline_definition["Version"] == "2020-12-01"
    names = [step["Name"] for step in offline_definition["Steps"]]
    assert names == ["PreprocessData", "TrainModel", "EvaluateModel", "CheckModelQuality"]


def test_every_parameter_the_dag_sends_is_declared_with_a_compatible_type(offline_definition: dict) -> None:
    declared = {item["Name"]: item["Type"] for item in offline_definition["Parameters"]}
    assert declared == PARAMETER_TYPES


def test_quality_gate_reads_the_auc_from_the_evaluation_report(offline_definition: dict) -> None:
    gate = next(step for step in offline_definition["Steps"] if step["Name"] == "CheckModelQuality")
    condition = gate["Arguments"]["Conditions"][0]
    assert condition["Type"] == "GreaterThanOrEqualTo"
    assert condition["LeftValue"]["Std:JsonGet"]["Path"] == AUC_JSON_PATH
    assert condition["RightValue"] == {"Get": "Parameters.MinAucThreshold"}
    assert [s["Name"] for s in gate["Arguments"]["IfSteps"]] == ["RegisterModel"]
    assert [s["Type"] for s in gate["Arguments"]["ElseSteps"]] == ["Fail"]
    register = gate["Arguments"]["IfSteps"][0]["Arguments"]
    assert register["ModelPackageGroupName"] == "classification-models"
    assert register["ModelApprovalStatus"] == {"Get": "Parameters.ModelApprovalStatus"}


def test_registered_package_records_its_provenance_from_the_run(offline_definition: dict) -> None:
    gate = next(step for step in offline_definition["Steps"] if step["Name"] == "CheckModelQuality")
    register = gate["Arguments"]["IfSteps"][0]["Arguments"]
    assert register["CustomerMetadataProperties"] == {
        name: {"Get": f"Parameters.{name}"} for name in ("DataDay", "PipelineVersion", "DataFingerprint")}


def test_preprocessing_cache_follows_the_settings(offline_definition: dict) -> None:
    preprocess = offline_definition["Steps"][0]
    assert preprocess["CacheConfig"] == {"Enabled": True, "ExpireAfter": "P30D"}


def test_images_come_from_the_settings_region(offline_definition: dict) -> None:
    text = json.dumps(offline_definition)
    assert "sagemaker-scikit-learn:1.2-1" in text and "sagemaker-xgboost:1.7-1" in text
    assert ".dkr.ecr.eu-west-1.amazonaws.com/" in text and "us-east-1" not in text


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("role_arn", "SageMakerRole", "PipelineSettings.role_arn='SageMakerRole' is invalid"),
        ("bucket", "My_Bucket", "PipelineSettings.bucket='My_Bucket' is invalid"),
        ("training_instance_type", "m5.xlarge", "expected an ml.* instance type"),
        ("min_auc_threshold", 1.5, "must be between 0 and 1"),
        ("model_approval_status", "Pending", "allowed: Approved, Rejected, PendingManualApproval"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(field: str, value: object, expected: str) -> None:
    arguments = {"region": "us-east-1", "role_arn": "arn:aws:iam::123456789012:role/R", "bucket": "ok-bucket", field: value}
    with pytest.raises(ValueError, match=expected.replace("*", r"\*").replace("(", r"\(")):
        PipelineSettings(**arguments)


def test_unrecorded_provenance_is_spelled_as_the_plugin_reads_it() -> None:
    from airflow_sagemaker_pipelines.payloads import UNRECORDED

    from include.pipelines.contract import UNRECORDED as CONTRACT_UNRECORDED

    assert CONTRACT_UNRECORDED == UNRECORDED
