"""The shipped IAM policy is valid JSON, least-privilege, and covers what the pipeline does."""

from __future__ import annotations

import json
from pathlib import Path

POLICY = Path(__file__).resolve().parents[2] / "deploy" / "iam" / "pipeline-role-policy.json"


def _statements() -> list[dict]:
    return json.loads(POLICY.read_text())["Statement"]


def test_policy_grants_no_wildcard_actions_and_scopes_sagemaker_to_pipeline_resources() -> None:
    for statement in _statements():
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all("*" not in action for action in actions), statement["Sid"]
        if any(action.startswith(("sagemaker:", "s3:")) for action in actions):
            assert statement["Resource"] != "*", statement["Sid"]


def test_policy_covers_the_pipeline_steps_actions() -> None:
    granted = {action for statement in _statements() for action in statement["Action"]}
    needed = {"sagemaker:CreateProcessingJob", "sagemaker:CreateTrainingJob", "sagemaker:CreateModelPackage",
              "s3:GetObject", "s3:PutObject", "s3:ListBucket", "logs:PutLogEvents", "ecr:BatchGetImage"}
    assert needed <= granted
