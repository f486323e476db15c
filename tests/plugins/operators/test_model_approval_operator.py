"""ModelPackageApprovalOperator in a DAG run: sets the decision's status, and checks the champion first."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from airflow_sagemaker_pipelines.operators.model_approval import ModelPackageApprovalOperator

from tests.support.declarations import AUC, METRIC_PATHS, PROVENANCE
from tests.support.registry import register_package
from tests.support.template_fields import assert_template_fields_are_constructor_attributes

CHECK = {"metric_paths": METRIC_PATHS, "provenance_keys": PROVENANCE}


def approved_decision(group: str, champion_arn: str | None = None) -> dict[str, Any]:
    return {"outcome": "approved", "approval_status": "Approved", "champion_arn": champion_arn,
            "reason": "AUC 0.8000 meets the threshold 0.7000; no approved model to compare with",
            "basis": {"metric": AUC, "value": 0.8, "threshold": 0.7, "margin": 0.02, "gate_failure": None,
                      "model_package_group": group,
                      "candidate": {"data_day": "2024-03-05", "pipeline_version": "v1", "data_fingerprint": "f1"}}}


def approve_in_a_run(run_tasks, package_arn: str | None, decision: dict[str, Any], status: str = "Approved"):
    def build() -> None:
        ModelPackageApprovalOperator(task_id="approve", model_package_arn=package_arn, decision=decision,
                                     approval_status=status, **CHECK)

    return run_tasks(build)


@pytest.fixture
def group() -> str:
    return f"approval-{uuid.uuid4().hex[:8]}"


def test_approves_with_the_reason_and_the_run_and_a_retry_changes_nothing(
    run_tasks, group, endpoint_client, seeded_bucket
) -> None:
    sagemaker = endpoint_client("sagemaker")
    candidate = register_package(endpoint_client, group, seeded_bucket, 0.8, status="PendingManualApproval")
    first = approve_in_a_run(run_tasks, candidate, approved_decision(group))
    package = sagemaker.describe_model_package(ModelPackageName=candidate)
    assert package["ModelApprovalStatus"] == "Approved"
    assert package["ApprovalDescription"].startswith("AUC 0.8000 meets the threshold 0.7000")
    assert first.run_id in package["ApprovalDescription"]
    assert first.xcoms[("approve", "return_value")] == {
        "outcome": "approved", "reason": approved_decision(group)["reason"], "model_package_arn": candidate,
        "approval_status": "Approved", "changed": True}


def test_a_champion_approved_meanwhile_is_compared_with_before_approving(
    run_tasks, group, endpoint_client, seeded_bucket
) -> None:
    sagemaker = endpoint_client("sagemaker")
    candidate = register_package(endpoint_client, group, seeded_bucket, 0.8, status="PendingManualApproval",
                                 data_day="2024-03-05")
    # Another run approved a better model on newer data after this run decided against "no champion".
    newer = register_package(endpoint_client, group, seeded_bucket, 0.9, data_day="2024-03-06")

    result = approve_in_a_run(run_tasks, candidate, approved_decision(group, champion_arn=None))

    approval = result.xcoms[("approve", "return_value")]
    assert approval["outcome"] == "not_promoted" and approval["approval_status"] == "PendingManualApproval"
    assert f"older data than the approved model {newer}" in approval["reason"]
    assert "The approved model changed from None to" in result.log
    assert sagemaker.describe_model_package(ModelPackageName=newer)["ModelApprovalStatus"] == "Approved"
    assert sagemaker.describe_model_package(ModelPackageName=candidate)["ModelApprovalStatus"] == "PendingManualApproval"


def test_nothing_registered_records_the_decision_and_succeeds(run_tasks, group) -> None:
    decision = {**approved_decision(group), "outcome": "rejected", "approval_status": "Rejected",
                "reason": "The pipeline's quality gate rejected the model"}
    result = approve_in_a_run(run_tasks, None, decision, status="Rejected")
    assert result.task_states["approve"] == "success"
    assert result.xcoms[("approve", "return_value")]["model_package_arn"] is None


def test_a_task_never_sets_a_status_the_decision_did_not_take(run_tasks, group, endpoint_client,
                                                            seeded_bucket) -> None:
    candidate = register_package(endpoint_client, group, seeded_bucket, 0.8, status="PendingManualApproval")
    result = approve_in_a_run(run_tasks, candidate, approved_decision(group), status="Rejected")
    assert result.task_states["approve"] == "failed"
    assert "this task sets Rejected, the decision says Approved" in result.log


def test_an_unknown_status_is_refused_naming_the_allowed_ones() -> None:
    with pytest.raises(ValueError, match="approval_status='Approve'; allowed: Approved, Rejected, PendingManualApproval"):
        ModelPackageApprovalOperator(task_id="a", model_package_arn=None, decision={}, approval_status="Approve")


def test_template_fields() -> None:
    assert_template_fields_are_constructor_attributes(
        ModelPackageApprovalOperator(task_id="a", model_package_arn=None, decision={}, approval_status="Approved",
                                     **CHECK))
