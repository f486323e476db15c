"""NotifyRunOperator in a DAG run: the report of the branch taken, on SNS, and the run's note."""

from __future__ import annotations

from typing import Any

from airflow_sagemaker_pipelines.operators.notify_run import NotifyRunOperator
from airflow_sagemaker_pipelines.run_report import RunReport

from tests.support.template_fields import assert_template_fields_are_constructor_attributes

PACKAGE = "arn:aws:sagemaker:us-east-1:123456789012:model-package/classification-models/7"
EXECUTION = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/abc123"


def notify_in_a_run(run_tasks, conf: dict[str, Any] | None = None):
    def build() -> None:
        from airflow.providers.standard.operators.empty import EmptyOperator
        from airflow.sdk import task

        @task(multiple_outputs=True)
        def read_metrics() -> dict[str, Any]:
            return {"execution_arn": EXECUTION, "metrics": {"auc": 0.74371, "test_rows": 300}, "report_uri": "s3://b/e",
                    "model_package_arn": PACKAGE, "gate_failure_reason": None,
                    "provenance": {"data_day": "2024-03-01", "pipeline_version": "v1", "data_fingerprint": "f"}}

        @task(multiple_outputs=True)
        def decide() -> dict[str, Any]:
            return {"outcome": "rejected", "approval_status": "Rejected", "reason": "AUC 0.7437 is too low",
                    "champion_arn": None}

        @task(task_id="reject", multiple_outputs=True)
        def reject() -> dict[str, Any]:
            return {"outcome": "rejected", "reason": "AUC 0.7437 is too low", "model_package_arn": PACKAGE,
                    "approval_status": "Rejected"}

        approve = EmptyOperator(task_id="approve")  # the branch not taken: it pushes nothing
        rejected = reject()
        NotifyRunOperator(task_id="notify", evaluation=read_metrics(), decision=decide(),
                          approvals={"approved": approve.output, "rejected": rejected},
                          data_day="2024-03-01", params={"notify": True}) << [approve, rejected]

    return run_tasks(build, conf=conf)


def test_reports_the_branch_taken_on_sns_and_leaves_the_runs_note(run_tasks, received_notifications) -> None:
    result = notify_in_a_run(run_tasks)

    assert result.task_states["notify"] == "success"
    [message] = received_notifications()
    report = RunReport.from_message(message["Message"])
    assert (report.outcome, report.model_package_status, report.data_day) == ("rejected", "Rejected", "2024-03-01")
    assert message["Subject"] == report.subject
    assert result.note.startswith("**REJECTED** · data 2024-03-01 · AUC 0.7437 · package classification-models/7")
    assert "XCom not found" not in result.log  # the branch not taken is not read


def test_notifications_can_be_switched_off_per_run(run_tasks, received_notifications) -> None:
    result = notify_in_a_run(run_tasks, conf={"notify": False})
    assert result.xcoms[("notify", "sent")] is False and received_notifications() == []


def test_template_fields() -> None:
    assert_template_fields_are_constructor_attributes(
        NotifyRunOperator(task_id="n", evaluation={}, decision={}, approvals={}))
