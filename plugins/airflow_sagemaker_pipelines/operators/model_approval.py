"""Set the approval status of the model package an execution registered."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.amazon.aws.utils.sagemaker import ApprovalStatus

from ..hooks.model_registry import ModelRegistryHook
from ..payloads import ApprovalResult, Decision

if TYPE_CHECKING:
    from airflow.sdk import Context


class ModelPackageApprovalOperator(AwsBaseOperator[ModelRegistryHook]):
    """UpdateModelPackage with the decision's status and reason, naming the DAG run; safe to retry.

    When the execution registered nothing (its quality gate stopped it), there is no package
    to update: the decision is logged and returned, and the task succeeds. Returns an
    ApprovalResult (multiple outputs).

    :param model_package_arn: the package (templated; an XComArg); None: nothing was registered.
    :param decision: ModelDecisionBranchOperator's Decision (templated; an XComArg).
    :param approval_status: the status this task sets: Approved, Rejected or PendingManualApproval.
    """

    aws_hook_class = ModelRegistryHook
    template_fields: Sequence[str] = aws_template_fields("model_package_arn", "decision")

    def __init__(self, *, model_package_arn: Any, decision: Any, approval_status: str, **kwargs: Any) -> None:
        kwargs.setdefault("multiple_outputs", True)
        super().__init__(**kwargs)
        allowed = [status.value for status in ApprovalStatus]
        if approval_status not in allowed:
            raise ValueError(f"approval_status={approval_status!r}; allowed: {', '.join(allowed)}")
        self.model_package_arn = model_package_arn
        self.decision = decision
        self.approval_status = approval_status

    def execute(self, context: Context) -> ApprovalResult:
        decision: Decision = self.decision
        run = f"Airflow DAG run {context['dag'].dag_id}/{context['run_id']}"
        description = f"{decision['reason']} ({run})"
        if self.model_package_arn is None:
            self.log.info("No model package was registered; decision %s recorded: %s", self.approval_status, description)
            return {"outcome": decision["outcome"], "reason": decision["reason"], "model_package_arn": None,
                    "approval_status": None}
        package = self.hook.set_approval(self.model_package_arn, self.approval_status, description)
        return {"outcome": decision["outcome"], "reason": decision["reason"],
                "model_package_arn": self.model_package_arn, "approval_status": package["ModelApprovalStatus"]}
