"""Read what an execution produced: its evaluation metrics, its model package, the group's champion."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import AirflowFailException

from ..evaluation_report import EvaluationReportError
from ..hooks.model_registry import ModelRegistryHook, read_evaluation_report

if TYPE_CHECKING:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook
    from airflow.sdk import Context


class ReadEvaluationMetricsOperator(AwsBaseOperator[ModelRegistryHook]):
    """Find the evaluation report through the step listing, DescribeProcessingJob and S3.

    Returns (and so pushes to XCom) a dict: execution_arn, metrics (auc, accuracy, ...),
    report_uri, model_package_arn (None when nothing was registered), champion ({arn, auc}
    or None), gate_failed and gate_failure_reason.

    :param execution: the PipelineExecutionSensor's summary (templated; an XComArg).
    :param model_package_group: the group the champion is looked up in (templated).
    :param evaluation_step: the processing step that writes the report.
    :param evaluation_output: that step's output name; `report_file` is read from it.
    :param register_step: the step that registers the model package.
    """

    aws_hook_class = ModelRegistryHook
    template_fields: Sequence[str] = aws_template_fields("execution", "model_package_group")

    def __init__(
        self,
        *,
        execution: Any,
        model_package_group: str,
        evaluation_step: str = "EvaluateModel",
        evaluation_output: str = "evaluation",
        report_file: str = "evaluation.json",
        register_step: str = "RegisterModel",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.execution = execution
        self.model_package_group = model_package_group
        self.evaluation_step = evaluation_step
        self.evaluation_output = evaluation_output
        self.report_file = report_file
        self.register_step = register_step

    def execute(self, context: Context) -> dict[str, Any]:
        try:
            return self._evaluate()
        except EvaluationReportError as error:
            # A missing or malformed report does not mend itself: fail now, without retries.
            raise AirflowFailException(str(error)) from error

    def _evaluate(self) -> dict[str, Any]:
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        if not isinstance(self.execution, dict) or not self.execution.get("execution_arn"):
            raise ValueError(f"execution={self.execution!r}: expected the PipelineExecutionSensor's summary dict")
        arn = self.execution["execution_arn"]
        steps = {step["StepName"]: step for step in self.hook.list_execution_steps(arn)}
        report_uri = self._report_uri(arn, steps)
        s3 = S3Hook(aws_conn_id=self.aws_conn_id, region_name=self.region_name, verify=self.verify)
        metrics = read_evaluation_report(s3, report_uri)
        self.log.info("Evaluation metrics of %s from %s: %s", arn, report_uri, metrics)

        package_arn = self._registered_package(steps)
        return {
            "execution_arn": arn,
            "metrics": metrics,
            "report_uri": report_uri,
            "model_package_arn": package_arn,
            "champion": self._champion(s3, package_arn),
            "gate_failed": bool(self.execution.get("gate_failed")),
            "gate_failure_reason": self.execution.get("failure_reason") if self.execution.get("gate_failed") else None,
        }

    def _report_uri(self, arn: str, steps: dict[str, dict[str, Any]]) -> str:
        step = steps.get(self.evaluation_step)
        if step is None:
            raise EvaluationReportError(f"execution {arn} has no step {self.evaluation_step!r}; steps: {', '.join(steps)}")
        if step["StepStatus"] != "Succeeded":
            raise EvaluationReportError(
                f"step {self.evaluation_step} of {arn} is {step['StepStatus']}: it wrote no evaluation report"
            )
        job_arn = (step.get("Metadata") or {}).get("ProcessingJob", {}).get("Arn")
        if not job_arn:
            raise EvaluationReportError(f"step {self.evaluation_step} of {arn} is not a processing step")
        folder = self.hook.processing_output_uri(job_arn, self.evaluation_output)
        return f"{folder.rstrip('/')}/{self.report_file}"

    def _registered_package(self, steps: dict[str, dict[str, Any]]) -> str | None:
        step = steps.get(self.register_step)
        if not step or step["StepStatus"] != "Succeeded":
            return None
        return (step.get("Metadata") or {}).get("RegisterModel", {}).get("Arn")

    def _champion(self, s3: S3Hook, candidate_arn: str | None) -> dict[str, Any] | None:
        champion = self.hook.latest_approved_package(self.model_package_group, exclude_arn=candidate_arn)
        if champion is None:
            self.log.info("No approved model in %s yet: nothing to compare with", self.model_package_group)
            return None
        arn = champion["ModelPackageArn"]
        try:
            metrics = self.hook.package_metrics(arn, s3)
        except EvaluationReportError as error:
            self.log.warning("The approved model %s has unreadable metrics (%s): not compared", arn, error)
            return None
        if metrics is None:
            self.log.warning("The approved model %s has no ModelQuality metrics: not compared", arn)
            return None
        self.log.info("Champion %s has AUC %.4f", arn, metrics["auc"])
        return {"arn": arn, "auc": metrics["auc"]}
