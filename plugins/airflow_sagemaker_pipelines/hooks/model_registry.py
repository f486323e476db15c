"""The model registry: the package an execution registered, the group's champion, approval.

The provider has no approve/reject call and nothing that reads a package's metrics.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.amazon.aws.hooks.s3 import S3Hook
from botocore.exceptions import ClientError

from ..evaluation_report import EvaluationReportError, parse_evaluation_report
from .pipeline_execution import PipelineExecutionHook

APPROVAL_DESCRIPTION_MAX = 1024


class ModelRegistryHook(PipelineExecutionHook):
    """Model packages, read and approved through the Airflow AWS connection.

    It extends the pipeline execution hook so that a task reading an execution's outputs and
    the registry uses one SageMaker client (each costs ~0.2 s to create).
    """

    def describe_package(self, package_arn: str) -> dict[str, Any]:
        return self.conn.describe_model_package(ModelPackageName=package_arn)

    def latest_approved_package(self, group_name: str, exclude_arn: str | None = None) -> dict[str, Any] | None:
        """The most recently created Approved package of the group (the champion), if any."""
        paginator = self.conn.get_paginator("list_model_packages")
        approved = [
            summary
            for page in paginator.paginate(ModelPackageGroupName=group_name, ModelApprovalStatus="Approved")
            for summary in page["ModelPackageSummaryList"]
            if summary.get("ModelApprovalStatus") == "Approved" and summary["ModelPackageArn"] != exclude_arn
        ]
        return max(approved, key=lambda s: s["CreationTime"], default=None)

    def package_metrics(self, package_arn: str, s3: S3Hook) -> dict[str, Any] | None:
        """The package's evaluation metrics (ModelQuality statistics), or None when it has none."""
        package = self.describe_package(package_arn)
        uri = package.get("ModelMetrics", {}).get("ModelQuality", {}).get("Statistics", {}).get("S3Uri")
        if not uri:
            return None
        return read_evaluation_report(s3, uri)

    def set_approval(self, package_arn: str, status: str, description: str) -> dict[str, Any]:
        """Set the approval status; a package already in that status is left alone (safe to retry)."""
        current = self.describe_package(package_arn)
        if current["ModelApprovalStatus"] == status:
            self.log.info("Model package %s is already %s", package_arn, status)
            return current
        self.conn.update_model_package(
            ModelPackageArn=package_arn,
            ModelApprovalStatus=status,
            ApprovalDescription=description[:APPROVAL_DESCRIPTION_MAX],
        )
        self.log.info("Model package %s: %s -> %s", package_arn, current["ModelApprovalStatus"], status)
        return self.describe_package(package_arn)


def read_evaluation_report(s3: S3Hook, uri: str) -> dict[str, Any]:
    """One GetObject: a missing report is an EvaluationReportError naming the URI."""
    bucket, key = S3Hook.parse_s3_url(uri)
    try:
        body = s3.conn.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NoSuchBucket"):
            raise EvaluationReportError(f"{uri}: the evaluation report does not exist") from None
        raise
    return parse_evaluation_report(body, uri)
