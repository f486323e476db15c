"""The training DAG end to end on the local endpoint: approve, reject, fail, stop, retry."""

from __future__ import annotations

import json

APPROVE_PATH = {"upsert_pipeline": "success", "start_execution": "success", "wait_for_execution": "success",
                "read_metrics": "success", "decide_model": "success", "approve_model": "success",
                "reject_model": "skipped", "notify": "success"}


def executions_of(aws, pipeline_name: str) -> list[dict]:
    return aws("sagemaker").list_pipeline_executions(PipelineName=pipeline_name)["PipelineExecutionSummaries"]


def test_good_model_is_approved_and_announced(run_training_dag, deployment, aws, received_notifications) -> None:
    result = run_training_dag()
    assert result.state == "success", result.task_states
    assert result.task_states == APPROVE_PATH

    [execution] = executions_of(aws, deployment.pipeline_name)
    assert execution["PipelineExecutionStatus"] == "Succeeded"
    evaluation = result.xcoms[("read_metrics", "return_value")]
    assert 0.6 < evaluation["metrics"]["auc"] <= 1.0
    package = aws("sagemaker").describe_model_package(ModelPackageName=evaluation["model_package_arn"])
    assert package["ModelApprovalStatus"] == "Approved"
    assert result.run_id in package["ApprovalDescription"]

    [message] = received_notifications()
    assert message["Subject"].startswith("[APPROVED] sagemaker_training_pipeline AUC ")
    body = json.loads(message["Message"].split("\n\n", 1)[1])
    assert body["execution_arn"] == execution["PipelineExecutionArn"]
    assert body["model_package_arn"] == evaluation["model_package_arn"] and body["model_package_status"] == "Approved"
    assert body["console_url"].startswith("https://console.aws.amazon.com/sagemaker/home?region=us-east-1#/pipelines/")
    assert body["metrics"]["auc"] == evaluation["metrics"]["auc"]
