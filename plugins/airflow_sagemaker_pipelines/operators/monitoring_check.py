"""The data-quality check of the day's captured requests: Model Monitor's analyzer as a processing job."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.operators.sagemaker import SageMakerProcessingOperator

from ..idempotent_jobs import JobAttempts

if TYPE_CHECKING:
    from airflow.sdk import Context

    from ..payloads import CapturedInput, MonitoringPlan

DATASET, BASELINE, RESULTS = "/opt/ml/processing/input/endpoint", "/opt/ml/processing/baseline", \
    "/opt/ml/processing/resultdata"
CSV_WITH_HEADER = '{"csv": {"header": true, "output_columns_position": "START"}}'


def analyzer_job(plan: MonitoringPlan, captured: CapturedInput, name: str) -> dict[str, Any]:
    """The CreateProcessingJob request of a monitoring execution, as a monitoring schedule would make it (the
    analyzer's container contract: dataset_source, baseline_constraints, baseline_statistics, output_path)."""

    def s3_input(input_name: str, uri: str, local_path: str, kind: str) -> dict[str, Any]:
        return {"InputName": input_name, "S3Input": {"S3Uri": uri, "LocalPath": local_path, "S3DataType": kind,
                                                     "S3InputMode": "File"}}

    return {
        "ProcessingJobName": name,
        "ProcessingInputs": [
            s3_input("endpoint", captured["input_uri"], DATASET, "S3Prefix"),
            s3_input("baseline", captured["baseline_statistics"], f"{BASELINE}/stats", "S3Prefix"),
            s3_input("constraints", captured["baseline_constraints"], f"{BASELINE}/constraints", "S3Prefix"),
        ],
        "ProcessingOutputConfig": {"Outputs": [{"OutputName": "result", "S3Output": {
            "S3Uri": f"{plan['results_uri']}{name}/", "LocalPath": RESULTS, "S3UploadMode": "EndOfJob"}}]},
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": plan["instance_type"],
                                                  "VolumeSizeInGB": 30}},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        "AppSpecification": {"ImageUri": plan["image_uri"]},
        "Environment": {"dataset_format": CSV_WITH_HEADER, "dataset_source": DATASET, "output_path": RESULTS,
                        "publish_cloudwatch_metrics": "Disabled",
                        "baseline_statistics": f"{BASELINE}/stats/statistics.json",
                        "baseline_constraints": f"{BASELINE}/constraints/constraints.json"},
        "RoleArn": plan["role_arn"],
    }


class DataQualityJobOperator(SageMakerProcessingOperator):
    """Check the day's captured requests against the deployed model's baseline, once whatever retries or clears
    (idempotent_jobs.py: the job is named after the day and the model version); the wait always defers.

    Returns {"job_name", "results_uri", "exit_message"}: the analyzer's ExitMessage says whether it found
    violations (CompletedWithViolations), and its files are under results_uri.

    :param plan: the MonitoringPlan (templated; an XComArg).
    :param captured: the CapturedInput (templated; an XComArg).
    :param poll_seconds: seconds between two looks at the job (templated).
    """

    template_fields: Sequence[str] = ("plan", "captured", "poll_seconds")

    def __init__(self, *, plan: Any, captured: Any, poll_seconds: Any = 30, **kwargs: Any) -> None:
        kwargs.update(deferrable=True, wait_for_completion=True, action_if_job_exists="fail")
        super().__init__(config={}, **kwargs)
        self.plan = plan
        self.captured = captured
        self.poll_seconds = poll_seconds

    @property
    def _attempts(self) -> JobAttempts:
        return JobAttempts("Processing", self.hook.describe_processing_job, "ProcessingJobStatus", self.log)

    def execute(self, context: Context) -> dict[str, Any]:
        self.check_interval = max(1, round(float(self.poll_seconds)))
        name, job = self._attempts.current(self.plan["job_name"])
        self.config = analyzer_job(self.plan, self.captured, name)
        if job is None:
            super().execute(context)  # creates the job and defers; completes at once only when it already ended
            return self._result(name)
        if job["ProcessingJobStatus"] == "Completed":
            self.log.info("Processing job %s completed before (a retry or a clear): its result is this run's", name)
            return self._result(name)
        self.log.info("Processing job %s is %s already: waiting for it", name, job["ProcessingJobStatus"])
        self.defer(trigger=self._attempts.trigger(name, self), method_name="execute_complete",
                   timeout=self.execution_timeout)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        name = (event or {}).get("job_name") or self.config.get("ProcessingJobName") or self.plan["job_name"]
        if (event or {}).get("status") != "success":
            raise self._attempts.failure(name, event)
        return self._result(name)

    def _result(self, name: str) -> dict[str, Any]:
        job = self._attempts.describe(name) or {}
        if job.get("ProcessingJobStatus") != "Completed":
            raise self._attempts.failure(name, None)
        self.log.info("Processing job %s: %s", name, job.get("ExitMessage") or "no exit message")
        return {"job_name": name, "results_uri": f"{self.plan['results_uri']}{name}/",
                "exit_message": job.get("ExitMessage") or ""}
