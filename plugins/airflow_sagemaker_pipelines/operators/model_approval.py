"""Set the approval status of the model package an execution registered."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.amazon.aws.utils.sagemaker import ApprovalStatus

from ..evaluation_report import MetricPaths
from ..hooks.model_registry import ModelRegistryHook, model_package_version
from ..payloads import ApprovalResult, Decision

if TYPE_CHECKING:
    from airflow.sdk import Context


class ModelPackageApprovalOperator(AwsBaseOperator[ModelRegistryHook]):
    """UpdateModelPackage with the decision's status and reason, naming the DAG run; safe to retry.

    Approving is a check and set: just before it approves, the task reads the group's champion
    again. When another run approved a model after this decision was taken, the candidate is
    decided again against that model, and the package gets that decision's status (the result
    says which); a champion is never replaced by a model it was not compared with. When the
    execution registered nothing (its quality gate stopped it), there is no package to update:
    the decision is recorded in the result, and the task succeeds. Returns an ApprovalResult
    (multiple outputs).

    :param model_package_arn: the package (templated; an XComArg); None: nothing was registered.
    :param decision: ModelDecisionBranchOperator's Decision (templated; an XComArg).
    :param approval_status: the status this task is for: Approved, Rejected or PendingManualApproval.
    :param metric_paths: where a champion's evaluation report keeps each metric (for the check).
    :param provenance_keys: PackageProvenance field -> CustomerMetadataProperties key (for the check).
    """

    aws_hook_class = ModelRegistryHook
    template_fields: Sequence[str] = aws_template_fields("model_package_arn", "decision")

    def __init__(
        self,
        *,
        model_package_arn: Any,
        decision: Any,
        approval_status: str,
        metric_paths: MetricPaths | None = None,
        provenance_keys: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("multiple_outputs", True)
        super().__init__(**kwargs)
        allowed = [status.value for status in ApprovalStatus]
        if approval_status not in allowed:
            raise ValueError(f"approval_status={approval_status!r}; allowed: {', '.join(allowed)}")
        if approval_status == ApprovalStatus.APPROVED.value and (metric_paths is None or provenance_keys is None):
            raise ValueError("approving checks the champion again: give metric_paths and provenance_keys")
        self.model_package_arn = model_package_arn
        self.decision = decision
        self.approval_status = approval_status
        self.metric_paths = dict(metric_paths or {})
        self.provenance_keys = dict(provenance_keys or {})

    def execute(self, context: Context) -> ApprovalResult:
        decision: Decision = self.decision
        if decision["approval_status"] != self.approval_status:
            raise ValueError(f"this task sets {self.approval_status}, the decision says {decision['approval_status']}")
        if self.model_package_arn is None:
            self.log.info("No model package was registered; decision %s recorded: %s",
                          decision["outcome"], decision["reason"])
            return {"outcome": decision["outcome"], "reason": decision["reason"], "model_package_arn": None,
                    "approval_status": None, "changed": False}
        if self.approval_status == ApprovalStatus.APPROVED.value:
            decision = self._check_champion(decision)
        if decision["outcome"] == "unchanged":  # its approval, and the run it names, stand as they are
            status = self.hook.describe_package(self.model_package_arn)["ModelApprovalStatus"]
            self.log.info("Model package %s is already the approved model: left as it is", self.model_package_arn)
            self._announce(context, decision, status)
            return {"outcome": "unchanged", "reason": decision["reason"], "model_package_arn": self.model_package_arn,
                    "approval_status": status, "changed": False}
        run = f"Airflow DAG run {context['dag'].dag_id}/{context['run_id']}"
        package, changed = self.hook.set_approval(self.model_package_arn, decision["approval_status"],
                                                  f"{decision['reason']} ({run})")
        self._announce(context, decision, package["ModelApprovalStatus"])
        return {"outcome": decision["outcome"], "reason": decision["reason"],
                "model_package_arn": self.model_package_arn, "approval_status": package["ModelApprovalStatus"],
                "changed": changed}

    def _announce(self, context: Context, decision: Decision, status: str) -> None:
        """The approved package, on the event of each asset this task updates (the deploy DAG's schedule)."""
        if status != ApprovalStatus.APPROVED.value:
            return
        basis = decision.get("basis") or {}
        extra = {"model_package_arn": self.model_package_arn,
                 "model_package_version": model_package_version(str(self.model_package_arn)),
                 "data_day": (basis.get("candidate") or {}).get("data_day"),
                 "metric": (basis.get("metric") or {}).get("name"), "value": basis.get("value"),
                 "outcome": decision["outcome"]}
        for outlet in self.outlets:
            context["outlet_events"][outlet].extra = extra

    def _check_champion(self, decision: Decision) -> Decision:
        """The decision again, if the champion it was compared with is no longer the champion."""
        from ..champion import current_champion, decide_against_current_champion
        from ..hooks.provider_clients import S3Hook

        basis = decision.get("basis")
        if basis is None:
            raise ValueError("the decision carries no basis: it cannot be checked against the current champion")
        s3 = S3Hook(aws_conn_id=self.aws_conn_id, region_name=self.region_name, verify=self.verify,
                    config=self.hook.config)
        now = current_champion(self.hook, s3, basis["model_package_group"], self.model_package_arn,
                               self.metric_paths, self.provenance_keys, self.log, basis["metric"]["name"])
        if (now["arn"] if now else None) == decision["champion_arn"]:
            return decision
        self.log.warning("The approved model changed from %s to %s after this run decided: deciding again",
                         decision["champion_arn"], now["arn"] if now else None)
        again = decide_against_current_champion(self.hook, s3, basis, self.model_package_arn, self.metric_paths,
                                                 self.provenance_keys, self.log)
        self.log.warning("Decision against the new champion: %s. %s", again["outcome"], again["reason"])
        return again
