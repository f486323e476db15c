"""Set the approval status of the model package an execution registered."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields

from ..hooks.model_registry import ModelRegistryHook

if TYPE_CHECKING:
    from airflow.sdk import Context

APPROVAL_STATUSES = ("Approved", "Rejected", "PendingManualApproval")


class ModelPackageApprovalOperator(AwsBaseOperator[ModelRegistryHook]):
    """UpdateModelPackage with a status and a description; safe to retry.

    When the execution registered nothing (its quality gate stopped it), there is no package
    to update: the decision is logged and returned, and the task succeeds.

    :param model_package_arn: the package (templated); empty or None means nothing was registered.
    :param approval_status: Approved, Rejected or PendingManualApproval.
    :param approval_description: why (templated); name the DAG run in it.
    """

    aws_hook_class = ModelRegistryHook
    template_fields: Sequence[str] = aws_template_fields("model_package_arn", "approval_description")

    def __init__(self, *, model_package_arn: Any, approval_status: str, approval_description: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if approval_status not in APPROVAL_STATUSES:
            raise ValueError(f"approval_status={approval_status!r}; allowed: {', '.join(APPROVAL_STATUSES)}")
        self.model_package_arn = model_package_arn
        self.approval_status = approval_status
        self.approval_description = approval_description

    def execute(self, context: Context) -> dict[str, Any]:
        if not self.model_package_arn or self.model_package_arn == "None":
            self.log.info("No model package was registered; decision %s recorded: %s",
                          self.approval_status, self.approval_description)
            return {"model_package_arn": None, "status": None, "decision": self.approval_status}
        package = self.hook.set_approval(self.model_package_arn, self.approval_status, self.approval_description)
        return {"model_package_arn": self.model_package_arn, "status": package["ModelApprovalStatus"],
                "decision": self.approval_status}
