"""ModelDecisionBranchOperator in a DAG run: it reads the champion now, follows the outcome's branch
and hands the Decision on."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from airflow_sagemaker_pipelines.operators.model_decision import DECISION_KEY, ModelDecisionBranchOperator

from tests.support.declarations import AUC, METRIC_PATHS, PROVENANCE
from tests.support.registry import register_package
from tests.support.template_fields import assert_template_fields_are_constructor_attributes

BRANCHES = {"approved": "approve", "rejected": "reject", "not_promoted": "keep", "unchanged": "confirm"}


@pytest.fixture
def group() -> str:
    return f"decision-{uuid.uuid4().hex[:8]}"


def candidate(auc: Any, data_day: str | None = "2024-03-05", gate_failure: str | None = None,
              status: str = "PendingManualApproval") -> dict[str, Any]:
    return {
        "execution_arn": "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/e1",
        "metrics": {"auc": auc}, "report_uri": "s3://b/evaluation.json",
        "model_package_arn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/other/9",
        "model_package_status": status,
        "provenance": {"data_day": data_day, "pipeline_version": "v1", "data_fingerprint": "f1"},
        "gate_failure_reason": gate_failure,
    }


def decide_in_a_run(run_tasks, group: str, evaluation: dict[str, Any], conf: dict[str, Any] | None = None):
    def build() -> None:
        from airflow.providers.standard.operators.empty import EmptyOperator
        from airflow.sdk import task

        @task(multiple_outputs=True)
        def read_metrics() -> dict[str, Any]:
            return evaluation

        decide = ModelDecisionBranchOperator(
            task_id="decide", evaluation=read_metrics(), model_package_group=group, branches=BRANCHES,
            metric=AUC, threshold="{{ params.min_auc }}", margin="{{ params.margin }}",
            metric_paths=METRIC_PATHS, provenance_keys=PROVENANCE, params={"min_auc": 0.7, "margin": 0.02},
        )
        decide >> [EmptyOperator(task_id=task_id) for task_id in BRANCHES.values()]

    return run_tasks(build, conf=conf)


def taken(result) -> list[str]:
    return [task_id for task_id in BRANCHES.values() if result.task_states[task_id] == "success"]


def test_a_candidate_approved_before_is_unchanged_and_takes_the_confirming_branch(run_tasks, group) -> None:
    result = decide_in_a_run(run_tasks, group, candidate(0.81, status="Approved"))
    assert taken(result) == ["confirm"]
    decision = result.xcoms[("decide", DECISION_KEY)]
    assert decision["outcome"] == "unchanged" and decision["approval_status"] == "Approved"
    assert "already the approved model" in decision["reason"] and "no approved model" not in decision["reason"]


def test_the_first_good_model_of_a_group_is_approved(run_tasks, group) -> None:
    result = decide_in_a_run(run_tasks, group, candidate(0.81))
    assert taken(result) == ["approve"]
    decision = result.xcoms[("decide", DECISION_KEY)]
    assert decision["approval_status"] == "Approved" and decision["champion_arn"] is None
    assert decision["basis"]["model_package_group"] == group and decision["basis"]["threshold"] == 0.7


def test_the_champion_is_read_from_the_registry_when_deciding(run_tasks, group, endpoint_client, seeded_bucket) -> None:
    champion = register_package(endpoint_client, group, seeded_bucket, 0.90, data_day="2024-03-04")
    result = decide_in_a_run(run_tasks, group, candidate(0.81))
    assert taken(result) == ["reject"]
    decision = result.xcoms[("decide", DECISION_KEY)]
    assert decision["champion_arn"] == champion and "trained on 2024-03-04" in decision["reason"]


def test_a_candidate_trained_on_older_data_than_the_champion_is_not_promoted(
    run_tasks, group, endpoint_client, seeded_bucket
) -> None:
    register_package(endpoint_client, group, seeded_bucket, 0.60, data_day="2024-03-06")
    result = decide_in_a_run(run_tasks, group, candidate(0.95, data_day="2024-03-05"))
    assert taken(result) == ["keep"]
    decision = result.xcoms[("decide", DECISION_KEY)]
    assert decision["approval_status"] == "PendingManualApproval"
    assert decision["reason"].startswith("Evaluated, not promoted: trained on 2024-03-05, older data than")


def test_thresholds_rendered_from_params_arrive_as_numbers(run_tasks, group) -> None:
    result = decide_in_a_run(run_tasks, group, candidate(0.75), conf={"min_auc": 0.9})
    assert taken(result) == ["reject"]
    assert result.xcoms[("decide", DECISION_KEY)]["reason"] == "AUC 0.7500 is below the threshold 0.9000"


def test_a_bad_number_fails_without_retry_and_takes_no_branch(run_tasks, group) -> None:
    result = decide_in_a_run(run_tasks, group, candidate("0.8"))
    assert result.task_states["decide"] == "failed" and taken(result) == []
    assert "Cannot decide on the model: auc='0.8': expected a number from 0 to 1" in result.log


def test_every_outcome_needs_a_branch() -> None:
    with pytest.raises(ValueError, match=r"branches has no task for the outcomes \['not_promoted', 'rejected', 'unchanged'\]"):
        ModelDecisionBranchOperator(task_id="d", evaluation={}, model_package_group="g", metric=AUC, threshold=0.7,
                                    margin=0.02, metric_paths=METRIC_PATHS, provenance_keys=PROVENANCE,
                                    branches={"approved": "approve"})


def test_template_fields() -> None:
    assert_template_fields_are_constructor_attributes(ModelDecisionBranchOperator(
        task_id="d", evaluation={}, model_package_group="g", metric=AUC, threshold=0.7, margin=0.02,
        metric_paths=METRIC_PATHS, provenance_keys=PROVENANCE, branches=BRANCHES))
