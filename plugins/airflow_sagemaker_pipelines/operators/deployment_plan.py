"""Choose what a deploy run deploys: the package the approval announced (or the form names), checked, and where."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.amazon.aws.utils.sagemaker import ApprovalStatus
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from ..hooks.endpoint_hosting import EndpointHostingHook
from ..hooks.model_registry import model_package_version

if TYPE_CHECKING:
    from airflow.sdk import Context

    from ..declarations import PipelineDeclaration
    from ..payloads import DeploymentPlan

IN_PROGRESS = ("Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting")


class ChooseDeploymentOperator(AwsBaseOperator[EndpointHostingHook]):
    """Decide what this deploy run deploys, before anything is created; returns a DeploymentPlan (multiple outputs).

    The package is, in order: the version the form names, the one the triggering approval's asset
    event carries, the group's newest Approved package. It must be Approved; one older than what
    the endpoint serves is refused unless `rollback` is set (a manual trigger may name any version;
    an approval never announces an older one). The names of the model and the endpoint config
    derive from the package version (and the instance settings), so a retried or cleared run
    creates nothing twice. Every refusal fails the task at once, with nothing changed.

    :param declaration: the pipeline's declaration (its [deploy], metric and registry group).
    :param settings_variable: the JSON Variable with the pipeline's and the endpoint's settings (templated).
    :param package_version: the model package version to deploy (templated; None: the approval's, or the newest).
    :param rollback: allow a version older than the one deployed (templated).
    """

    aws_hook_class = EndpointHostingHook
    template_fields: Sequence[str] = aws_template_fields("settings_variable", "package_version", "rollback")

    def __init__(self, *, declaration: PipelineDeclaration, settings_variable: str, package_version: Any = None,
                 rollback: Any = False, **kwargs: Any) -> None:
        kwargs.setdefault("multiple_outputs", True)
        super().__init__(**kwargs)
        if declaration.deploy is None:
            raise ValueError(f"{declaration.file} declares no [deploy]")
        self.declaration = declaration
        self.settings_variable = settings_variable
        self.package_version = package_version
        self.rollback = rollback

    def execute(self, context: Context) -> DeploymentPlan:
        from ..champion import package_provenance
        from ..deployment_settings import read_settings_variable, settings_from_mapping
        from ..endpoint_settings import endpoint_settings

        try:
            values, source = read_settings_variable(self.settings_variable)
            if not isinstance(values, dict):
                raise ValueError(f"{source} must be a JSON object, got {values!r}")
            pipeline = settings_from_mapping(values, self.hook.conn_region_name or "us-east-1", source,
                                             self.declaration)
            endpoint = endpoint_settings(values, source, self.declaration)
        except ValueError as error:
            raise AirflowFailException(str(error)) from None
        package = self._package(pipeline.model_package_group, context)
        arn, version = package["ModelPackageArn"], model_package_version(package["ModelPackageArn"])
        if package["ModelApprovalStatus"] != ApprovalStatus.APPROVED.value:
            raise AirflowFailException(f"Model package {arn} is {package['ModelApprovalStatus']}: only an Approved "
                                       "package is deployed; nothing was changed")
        report_uri = (package.get("ModelMetrics", {}).get("ModelQuality", {}).get("Statistics", {}).get("S3Uri"))
        if not report_uri:
            raise AirflowFailException(f"Model package {arn} has no ModelQuality report: the smoke test has nothing "
                                       "to compare with; nothing was changed")
        package_value = self._package_value(report_uri, arn)
        capture = endpoint.data_capture(pipeline.bucket)
        # A config is named after what it serves with: another instance type, count or capture is another config.
        served_with = f"{endpoint.instance_type}/{endpoint.instance_count}" + (
            f"/capture {capture['InitialSamplingPercentage']}% {capture['DestinationS3Uri']}" if capture else "")
        settings_digest = hashlib.sha256(served_with.encode()).hexdigest()
        model_name = f"{endpoint.name}-v{version}"
        config_name = f"{endpoint.name}-v{version}-{settings_digest[:8]}"
        action, previous_config, previous_package = self._endpoint_state(endpoint.name, config_name, version)
        rule = self.declaration.metric
        plan: DeploymentPlan = {
            "endpoint_name": endpoint.name, "action": action, "model_package_arn": arn,
            "model_package_version": version,
            "data_day": package_provenance(package, self.declaration.provenance).get("data_day"),
            "metric": {"name": rule.name, "better": rule.better, "range": list(rule.range) if rule.range else None},
            "package_value": package_value,
            "holdout_uri": self.declaration.deploy.holdout_uri(report_uri),  # type: ignore[union-attr]
            "model_name": model_name, "config_name": config_name, "role_arn": pipeline.role_arn,
            "instance_type": endpoint.instance_type, "instance_count": endpoint.instance_count,
            "tolerance": endpoint.tolerance, "p50_budget_ms": endpoint.p50_ms, "data_capture": capture,
            "previous_config": previous_config, "previous_package_arn": previous_package,
        }
        self.log.info("Deploying %s (version %d, %s %.4f) to %s: %s; it served %s before", arn, version,
                      rule.name.upper(), package_value, endpoint.name, action, previous_package or "nothing")
        return plan

    def _package(self, group: str, context: Context) -> dict[str, Any]:
        wanted = self.package_version
        if wanted not in (None, ""):
            try:
                number = int(wanted)
            except (TypeError, ValueError):
                raise AirflowFailException(f"package_version={wanted!r}: expected a model package version, "
                                           "a whole number such as 3") from None
            arn = next((summary["ModelPackageArn"] for summary in self._packages(group)
                        if model_package_version(summary["ModelPackageArn"]) == number), None)
            if arn is None:
                raise AirflowFailException(f"Model package group {group} has no version {number}; nothing was changed")
            return self.hook.describe_package(arn)
        announced = self._announced_package(context)
        if announced:
            return self.hook.describe_package(announced)
        newest = next(self.hook.approved_packages(group), None)
        if newest is not None:
            return newest
        raise AirflowFailException(f"Model package group {group} has no Approved package: nothing to deploy")

    def _packages(self, group: str) -> list[dict[str, Any]]:
        """The group's packages, newest first."""
        paginator = self.hook.conn.get_paginator("list_model_packages")
        summaries = [summary for page in paginator.paginate(ModelPackageGroupName=group)
                     for summary in page["ModelPackageSummaryList"]]
        return sorted(summaries, key=lambda summary: model_package_version(summary["ModelPackageArn"]), reverse=True)

    def _announced_package(self, context: Context) -> str | None:
        """The package of the newest approval among the asset events that triggered this run."""
        events = [event for asset_events in (context.get("triggering_asset_events") or {}).values()
                  for event in asset_events]
        events = sorted((e for e in events if (e.extra or {}).get("model_package_arn")), key=lambda e: e.timestamp)
        return events[-1].extra["model_package_arn"] if events else None

    def _package_value(self, report_uri: str, arn: str) -> float:
        from ..evaluation_report import EvaluationReportError, read_evaluation_report
        from ..hooks.provider_clients import S3Hook

        rule = self.declaration.metric
        s3 = S3Hook(aws_conn_id=self.aws_conn_id, region_name=self.region_name, verify=self.verify,
                    config=self.hook.config)
        try:
            metrics = read_evaluation_report(s3, report_uri, {rule.name: rule.path}, required=rule.name)
        except EvaluationReportError as error:
            raise AirflowFailException(f"Model package {arn}: {error}; nothing was changed") from None
        return float(metrics[rule.name])

    def _endpoint_state(self, name: str, config_name: str, version: int) -> tuple[str, str | None, str | None]:
        endpoint = self.hook.find_endpoint(name)
        if endpoint is None:
            return "create", None, None
        status = endpoint["EndpointStatus"]
        if status in IN_PROGRESS:  # another run's update, or SageMaker's own: wait for it, on a retry
            raise AirflowException(f"Endpoint {name} is {status}: it can be deployed to once it is InService again")
        if status != "InService":
            raise AirflowFailException(f"Endpoint {name} is {status} ({endpoint.get('FailureReason')}): a failed "
                                       "endpoint cannot be updated; delete it, and the next run creates it again")
        current = endpoint["EndpointConfigName"]
        served = self.hook.served_package(current)
        if current == config_name:
            return "unchanged", current, served
        if served and model_package_version(served) > version and not self.rollback:
            raise AirflowFailException(
                f"Endpoint {name} serves {served}, newer than version {version}: an older package is deployed only "
                "when asked for as a rollback (the form's rollback); nothing was changed")
        return "update", current, served
