"""Read what an execution produced: its evaluation metrics and its model package (the candidate)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import AirflowFailException

from ..champion import package_provenance
from ..data_quality import DataQualityFileError, read_violations
from ..evaluation_report import EvaluationReportError, MetricPaths, read_evaluation_report
from ..hooks.model_registry import ModelRegistryHook
from ..hooks.pipeline_execution import PipelineExecutionHook
from ..payloads import (
    DataQualityBaseline,
    DataQualityResult,
    Evaluation,
    ExecutionSummary,
    MetricSpec,
    PackageProvenance,
)
from ..statuses import STEP_SUCCEEDED

if TYPE_CHECKING:
    from airflow.sdk import Context


class ReadEvaluationMetricsOperator(AwsBaseOperator[PipelineExecutionHook]):
    """Find the evaluation report through the step listing, DescribeProcessingJob and S3.

    Returns an Evaluation (multiple outputs): execution_arn, metrics (the decision's metric and the others),
    report_uri, model_package_arn (None when nothing was registered) with its status and provenance (the day,
    data and pipeline version it was trained on, as the package recorded them) and
    gate_failure_reason, and data_quality: what the pipeline's QualityCheck step found, each violated
    feature with its baseline and current values (None when the pipeline has no such step). A
    missing, malformed or NaN report fails the task at once: no retry mends it.

    Which steps, outputs and metric paths to read is the pipeline's business; the DAG passes
    them from the pipeline's declaration.

    :param execution: the PipelineExecutionSensor's ExecutionSummary (templated; an XComArg).
    :param evaluation_step: the processing step that writes the report.
    :param evaluation_output: that step's output name; `report_file` is read from it.
    :param report_file: the report's file name in that output.
    :param register_step: the step that registers the model package.
    :param metric: the metric the decision rests on (name, which way is better, range): required in the report.
    :param metric_paths: metric name -> its path in the report, the decision's metric included.
    :param count_paths: whole-number facts (rows) -> their paths in the report.
    :param provenance_keys: PackageProvenance field -> the package's CustomerMetadataProperties key.
    :param data_quality_step: the pipeline's QualityCheck (DATA_QUALITY) step, if it has one.
    :param baseline: the DataQualityBaseline the step was given (templated; an XComArg).
    """

    aws_hook_class = PipelineExecutionHook
    template_fields: Sequence[str] = aws_template_fields("execution", "baseline")

    def __init__(
        self,
        *,
        execution: Any,
        evaluation_step: str,
        evaluation_output: str,
        report_file: str,
        register_step: str,
        metric: MetricSpec,
        metric_paths: MetricPaths,
        count_paths: MetricPaths | None = None,
        provenance_keys: Mapping[str, str],
        data_quality_step: str | None = None,
        baseline: Any = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("multiple_outputs", True)
        super().__init__(**kwargs)
        if metric["name"] not in metric_paths:
            raise ValueError(f"metric_paths has no path for the decision's metric {metric['name']!r}")
        self.metric = metric
        unknown = sorted(set(provenance_keys) - set(PackageProvenance.__annotations__))
        if unknown:
            raise ValueError(f"provenance_keys has unknown fields {unknown}; allowed: "
                             f"{sorted(PackageProvenance.__annotations__)}")
        self.execution = execution
        self.evaluation_step = evaluation_step
        self.evaluation_output = evaluation_output
        self.report_file = report_file
        self.register_step = register_step
        self.metric_paths = dict(metric_paths)
        self.count_paths = dict(count_paths or {})
        self.provenance_keys = {field: provenance_keys.get(field, field) for field in PackageProvenance.__annotations__}
        self.data_quality_step = data_quality_step
        self.baseline = baseline

    def execute(self, context: Context) -> Evaluation:
        try:
            return self._evaluate()
        except (EvaluationReportError, DataQualityFileError) as error:
            # A missing or malformed report does not mend itself: fail now, without retries.
            raise AirflowFailException(str(error)) from error

    def _evaluate(self) -> Evaluation:
        from ..hooks.provider_clients import S3Hook

        execution: ExecutionSummary = self.execution
        if not isinstance(execution, dict) or not execution.get("execution_arn"):
            raise ValueError(f"execution={execution!r}: expected the PipelineExecutionSensor's summary")
        arn = execution["execution_arn"]
        steps = {step["StepName"]: step for step in self.hook.list_execution_steps(arn)}
        report_uri = self._report_uri(arn, steps)
        s3 = S3Hook(aws_conn_id=self.aws_conn_id, region_name=self.region_name, verify=self.verify,
                    config=self.hook.config)
        bounds = self.metric.get("range")
        metrics = read_evaluation_report(s3, report_uri, self.metric_paths, self.count_paths,
                                         required=self.metric["name"],
                                         ranges={self.metric["name"]: bounds} if bounds else None)
        self.log.info("Evaluation metrics of %s from %s: %s", arn, report_uri, metrics)

        registry = ModelRegistryHook(aws_conn_id=self.aws_conn_id, region_name=self.region_name, verify=self.verify,
                                     config=self.hook.config)
        package_arn = self._registered_package(steps)
        package = registry.describe_package(package_arn) if package_arn else {}
        provenance = (package_provenance(package, self.provenance_keys) if package_arn
                      else dict.fromkeys(self.provenance_keys))
        return {
            "execution_arn": arn,
            "metrics": metrics,
            "report_uri": report_uri,
            "model_package_arn": package_arn,
            "model_package_status": package.get("ModelApprovalStatus"),
            "provenance": provenance,  # type: ignore[typeddict-item]
            "gate_failure_reason": execution["failure_reason"] if execution.get("gate_failed") else None,
            "data_quality": self._data_quality(arn, steps, s3) if self.data_quality_step else None,
        }

    def _data_quality(self, arn: str, steps: dict[str, dict[str, Any]], s3: Any) -> DataQualityResult:
        """What the QualityCheck step found: its violation report, with the champion's and the data's statistics."""
        step = steps.get(str(self.data_quality_step))
        if step is None or step["StepStatus"] != STEP_SUCCEEDED:
            raise EvaluationReportError(
                f"step {self.data_quality_step} of {arn} is {step['StepStatus'] if step else 'missing'}: it checked "
                f"no data quality; steps: {', '.join(steps)}")
        metadata = (step.get("Metadata") or {}).get("QualityCheck") or {}
        baseline: DataQualityBaseline | None = self.baseline
        current = metadata.get("CalculatedBaselineStatistics")
        result: DataQualityResult = {
            "checked": not metadata.get("SkipCheck", False), "baseline_arn": (baseline or {}).get("champion_arn"),
            "report_uri": metadata.get("ViolationReport"), "statistics_uri": current, "violations": []}
        if not result["checked"]:
            self.log.info("Data quality: not checked (no baseline to check against); this data's baseline: %s", current)
        elif result["report_uri"]:
            result["violations"] = read_violations(s3, result["report_uri"], (baseline or {}).get("statistics"),
                                                   current)
            for violation in result["violations"]:
                self.log.warning("Data quality: %s: %s (%s)", violation["feature"], violation["kind"],
                                 violation["description"])
        else:
            self.log.info("Data quality: no violation against the baseline of %s", result["baseline_arn"])
        return result

    def _report_uri(self, arn: str, steps: dict[str, dict[str, Any]]) -> str:
        step = steps.get(self.evaluation_step)
        if step is None:
            raise EvaluationReportError(f"execution {arn} has no step {self.evaluation_step!r}; steps: {', '.join(steps)}")
        if step["StepStatus"] != STEP_SUCCEEDED:
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
        if not step or step["StepStatus"] != STEP_SUCCEEDED:
            return None
        return (step.get("Metadata") or {}).get("RegisterModel", {}).get("Arn")
