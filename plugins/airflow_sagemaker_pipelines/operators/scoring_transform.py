"""The provider's SageMakerTransformOperator, made safe to retry and to clear (idempotent_jobs.py): the job's
name derives from the day and the model (ChooseScoringModelOperator), so a cleared scoring run never scores
its day twice.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.links.sagemaker import SageMakerTransformJobLink
from airflow.providers.amazon.aws.operators.sagemaker import SageMakerTransformOperator

from ..idempotent_jobs import JobAttempts

if TYPE_CHECKING:
    from airflow.sdk import Context


class IdempotentTransformOperator(SageMakerTransformOperator):
    """Run the day's transform job once, whatever retries or clears: returns the provider's {"Model", "Transform"}.

    `config` is a CreateTransformJob request (no "Model": the model is created beforehand) whose
    TransformOutput.S3OutputPath is the folder under which each attempt writes to `<job name>/`.
    The wait always defers (no worker slot held while the job runs), whatever
    `[operators] default_deferrable` says.

    :param poll_seconds: seconds between two looks at the job (templated; the provider's check_interval is not).
    """

    template_fields: Sequence[str] = (*SageMakerTransformOperator.template_fields, "poll_seconds")

    def __init__(self, *, poll_seconds: Any = 30, **kwargs: Any) -> None:
        kwargs.update(deferrable=True, wait_for_completion=True, check_if_job_exists=False,
                      check_if_model_exists=False)
        super().__init__(**kwargs)
        self.poll_seconds = poll_seconds

    def execute(self, context: Context) -> dict:
        self.check_interval = max(1, round(float(self.poll_seconds)))
        base, folder = self.config["TransformJobName"], self.config["TransformOutput"]["S3OutputPath"]
        name, job = self._attempts.current(base)
        self.config["TransformJobName"] = name
        self.config["TransformOutput"]["S3OutputPath"] = f"{folder.rstrip('/')}/{name}/"
        if job is None:
            return super().execute(context)
        self._persist_link(context, name)
        if job["TransformJobStatus"] == "Completed":
            self.log.info("Transform job %s completed before (a retry or a clear): its output is this run's", name)
            return self.serialize_result(name)
        self.log.info("Transform job %s is %s already: waiting for it", name, job["TransformJobStatus"])
        self.defer(trigger=self._attempts.trigger(name, self), method_name="execute_complete",
                   timeout=self.execution_timeout)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, dict]:
        if (event or {}).get("status") != "success":
            raise self._attempts.failure((event or {}).get("job_name") or self.config["TransformJobName"], event)
        return super().execute_complete(context, event)

    def serialize_result(self, job_name: str) -> dict[str, dict]:
        """The provider's result, and the job's own duration (its serialized times are reprs, not to be parsed)."""
        result = super().serialize_result(job_name)
        job = self.hook.describe_transform_job(job_name)
        started, ended = job.get("TransformStartTime"), job.get("TransformEndTime")
        result["Transform"]["DurationSeconds"] = round((ended - started).total_seconds(), 3) if started and ended \
            else None
        return result

    @property
    def _attempts(self) -> JobAttempts:
        return JobAttempts("Transform", self.hook.describe_transform_job, "TransformJobStatus", self.log)

    def _persist_link(self, context: Context, name: str) -> None:
        SageMakerTransformJobLink.persist(context=context, operator=self, region_name=self.hook.conn_region_name,
                                          aws_partition=self.hook.conn_partition,
                                          job_name=urllib.parse.quote(name, safe=""))
