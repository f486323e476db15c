"""Choose what a monitoring run checks: the day's captured requests of the deployed endpoint, against the
baseline of the model it serves."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import AirflowFailException

from ..captured_data import capture_day_prefix
from ..data_quality import drift_check_baseline
from ..hooks.endpoint_hosting import EndpointHostingHook
from ..hooks.model_registry import model_package_version
from .data_partition import refuse_a_day_without_data, run_data_day

if TYPE_CHECKING:
    from datetime import date

    from airflow.sdk import Context

    from ..declarations import PipelineDeclaration
    from ..payloads import MonitoringPlan

ANALYZER_IMAGE = "model_monitor_image"  # the compiled definition's regional value: Model Monitor's analyzer
INSTANCE_TYPE = "ml.m5.xlarge"


class ChooseMonitoringOperator(AwsBaseOperator[EndpointHostingHook]):
    """Decide what the run's data day is checked against, before anything is created; returns a MonitoringPlan
    (multiple outputs).

    The requests are those the endpoint (the settings' `endpoint_name`) captured on the day, under the
    settings' `data_capture_prefix`; the baseline is the DriftCheckBaselines.ModelDataQuality of the model
    package the endpoint serves now. When there is nothing to check (no endpoint, capture off, a model
    without a baseline) the plan says why in `skip_reason`, and the run reports it without failing.

    :param declaration: the pipeline's declaration ([data_quality], [scoring] features, compiled definition).
    :param settings_variable: the JSON Variable with the pipeline's and the endpoint's settings (templated).
    """

    aws_hook_class = EndpointHostingHook
    template_fields: Sequence[str] = aws_template_fields("settings_variable")

    def __init__(self, *, declaration: PipelineDeclaration, settings_variable: str, **kwargs: Any) -> None:
        kwargs.setdefault("multiple_outputs", True)
        super().__init__(**kwargs)
        if declaration.data_quality is None or declaration.scoring is None:
            raise ValueError(f"{declaration.file} declares no [data_quality] with [scoring] features")
        self.declaration = declaration
        self.settings_variable = settings_variable

    def execute(self, context: Context) -> MonitoringPlan:
        from ..compiled_pipeline import CompiledPipeline, CompiledPipelineError
        from ..deployment_settings import read_settings_variable, settings_from_mapping
        from ..endpoint_settings import endpoint_settings

        day = run_data_day(context.get("data_interval_start"), context["dag_run"].run_after)
        refuse_a_day_without_data(day, self.declaration.first_day)
        region = self.hook.conn_region_name or "us-east-1"
        try:
            values, source = read_settings_variable(self.settings_variable)
            pipeline = settings_from_mapping(values, region, source, self.declaration)
            endpoint = endpoint_settings(values, source, self.declaration)
            images = CompiledPipeline.load(self.declaration.compiled_definition).regional_values.get(ANALYZER_IMAGE, {})
        except (ValueError, CompiledPipelineError) as error:
            raise AirflowFailException(str(error)) from None
        if region not in images:
            raise AirflowFailException(f"{self.declaration.compiled_definition} has no {ANALYZER_IMAGE} for region "
                                       f"{region!r} (Model Monitor's analyzer): run `make pipelines`")
        assert self.declaration.scoring is not None
        folder = pipeline.s3_uri("monitoring", f"ds={day.isoformat()}")
        plan: MonitoringPlan = {
            "data_day": day.isoformat(), "bucket": pipeline.bucket, "endpoint_name": endpoint.name,
            "capture_prefix": capture_day_prefix(endpoint.capture_prefix, endpoint.name, day),
            "features": list(self.declaration.scoring.features), "model_package_arn": None,
            "model_package_version": None, "baseline_statistics": None, "baseline_constraints": None,
            "input_uri": f"{folder}/input/", "baseline_uri": f"{folder}/baseline/", "results_uri": f"{folder}/results/",
            "job_name": monitoring_job_name(endpoint.name, day, None), "image_uri": images[region],
            "role_arn": pipeline.role_arn, "instance_type": INSTANCE_TYPE, "skip_reason": None,
        }
        if not endpoint.capture_percent:
            return self._skip(plan, f"data capture is off (the settings' data_capture_percent is 0): the endpoint "
                                    f"{endpoint.name} keeps no requests to check; set it to a percentage and deploy")
        served = self.hook.find_endpoint(endpoint.name)
        if served is None:
            return self._skip(plan, f"the endpoint {endpoint.name} does not exist: no model is deployed yet")
        package_arn = self.hook.served_package(served["EndpointConfigName"])
        if package_arn is None:
            return self._skip(plan, f"the endpoint {endpoint.name} serves no model package: it has no baseline")
        plan.update(model_package_arn=package_arn, model_package_version=model_package_version(package_arn))
        plan["job_name"] = monitoring_job_name(endpoint.name, day, plan["model_package_version"])
        baseline = drift_check_baseline(self.hook.describe_package(package_arn))
        if baseline is None:
            return self._skip(plan, f"the deployed model {package_arn} has no data-quality baseline "
                                    "(DriftCheckBaselines.ModelDataQuality): it was registered before its data was checked")
        plan.update(baseline_statistics=baseline[0], baseline_constraints=baseline[1])
        self.log.info("Checking the requests %s captured on %s (s3://%s/%s) against the baseline of %s", endpoint.name,
                      day, pipeline.bucket, plan["capture_prefix"], package_arn)
        return plan

    def _skip(self, plan: MonitoringPlan, reason: str) -> MonitoringPlan:
        self.log.warning("Nothing to check: %s", reason)
        return {**plan, "skip_reason": reason}


def monitoring_job_name(endpoint: str, day: date, version: int | None) -> str:
    """The day's check of the version's requests: the endpoint's name cut so that the day, the version and an
    attempt's suffix (`-20`, idempotent_jobs.py) fit SageMaker's 63 characters."""
    suffix = f"-dq-{day:%Y%m%d}" + (f"-v{version}" if version is not None else "")
    return f"{endpoint[:60 - len(suffix)].rstrip('-')}{suffix}"
