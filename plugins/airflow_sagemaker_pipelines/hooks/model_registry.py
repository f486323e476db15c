"""The model registry: packages, their provenance, the group's champion, approval.

The provider has no approve/reject call and nothing that reads a package's metrics or its
customer metadata; its SageMakerRegisterModelVersionOperator writes the package description
into the group's.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from airflow.providers.amazon.aws.hooks.sagemaker import SageMakerHook
from airflow.providers.amazon.aws.utils.sagemaker import ApprovalStatus

from .transient_errors import StandardRetries

APPROVAL_DESCRIPTION_MAX = 1024
METADATA_VALUE_MAX = 256  # CustomerMetadataProperties values


def model_package_version(package_arn: str) -> int:
    """arn:...:model-package/<group>/<version> -> version."""
    return int(package_arn.rsplit("/", 1)[-1])


class ModelRegistryHook(StandardRetries, SageMakerHook):
    """Model packages, read and approved through the Airflow AWS connection."""

    def describe_package(self, package_arn: str) -> dict[str, Any]:
        return self.conn.describe_model_package(ModelPackageName=package_arn)

    def approved_packages(self, group_name: str) -> Iterator[dict[str, Any]]:
        """The group's Approved packages, newest first, each described (metadata and metrics included)
        only when the caller gets to it: the champion is usually the first."""
        paginator = self.conn.get_paginator("list_model_packages")
        summaries = [
            summary
            for page in paginator.paginate(
                ModelPackageGroupName=group_name, ModelApprovalStatus=ApprovalStatus.APPROVED.value,
                SortBy="CreationTime", SortOrder="Descending",
            )
            for summary in page["ModelPackageSummaryList"]
            if summary.get("ModelApprovalStatus") == ApprovalStatus.APPROVED.value
        ]
        summaries.sort(key=lambda summary: summary["CreationTime"], reverse=True)
        for summary in summaries:
            yield self.describe_package(summary["ModelPackageArn"])

    def set_approval(
        self, package_arn: str, status: str, description: str, metadata: dict[str, str] | None = None
    ) -> tuple[dict[str, Any], bool]:
        """Set the approval status (and add metadata): the package afterwards, and whether anything changed.
        A package already so is left alone (safe to retry)."""
        current = self.describe_package(package_arn)
        description = description[:APPROVAL_DESCRIPTION_MAX]
        metadata = {key: value[:METADATA_VALUE_MAX] for key, value in (metadata or {}).items()}
        recorded = current.get("CustomerMetadataProperties") or {}
        if (
            current["ModelApprovalStatus"] == status
            and current.get("ApprovalDescription") == description
            and all(recorded.get(key) == value for key, value in metadata.items())
        ):
            self.log.info("Model package %s is already %s", package_arn, status)
            return current, False
        request: dict[str, Any] = {
            "ModelPackageArn": package_arn, "ModelApprovalStatus": status, "ApprovalDescription": description,
        }
        if metadata:
            request["CustomerMetadataProperties"] = {**recorded, **metadata}
        self.conn.update_model_package(**request)
        self.log.info("Model package %s: %s -> %s", package_arn, current["ModelApprovalStatus"], status)
        return self.describe_package(package_arn), True
