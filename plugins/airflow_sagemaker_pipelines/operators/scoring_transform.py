"""The provider's SageMakerTransformOperator, made safe to retry and to clear.

The provider's either fails on a job name in use or creates another job under a timestamped name:
a cleared scoring run would score its day twice. Here the name derives from the day and the model
(ChooseScoringModelOperator), and what exists is looked at first: a Completed job is the result, a
running one is waited for, and only after a failed or stopped one is the next attempt created
(`<name>-2`, `-3`, ...), its output in a folder of its own, so a failed attempt's partial output
is never mixed in.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.links.sagemaker import SageMakerTransformJobLink
from airflow.providers.amazon.aws.operators.sagemaker import SageMakerTransformOperator
from airflow.providers.amazon.aws.triggers.sagemaker import SageMakerTrigger
from airflow.providers.common.compat.sdk import AirflowFailException
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from airflow.sdk import Context

IN_PROGRESS = ("InProgress", "Stopping")
MAX_ATTEMPTS = 20


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
        name, job = self._attempt(base)
        self.config["TransformJobName"] = name
        self.config["TransformOutput"]["S3OutputPath"] = f"{folder.rstrip('/')}/{name}/"
        if job is None:
            return super().execute(context)
        self._persist_link(context, name)
        if job["TransformJobStatus"] == "Completed":
            self.log.info("Transform job %s completed before (a retry or a clear): its output is this run's", name)
            return self.serialize_result(name)
        self.log.info("Transform job %s is %s already: waiting for it", name, job["TransformJobStatus"])
        self.defer(
            trigger=SageMakerTrigger(job_name=name, job_type="Transform", waiter_delay=self.check_interval,
                                     waiter_max_attempts=self.max_attempts, aws_conn_id=self.aws_conn_id,
                                     region_name=self.region_name, verify=self.verify,
                                     botocore_config=self.botocore_config),
            method_name="execute_complete",
            timeout=self.execution_timeout,
        )

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, dict]:
        if (event or {}).get("status") != "success":
            name = (event or {}).get("job_name") or self.config["TransformJobName"]
            job = self._describe(name)
            reason = job.get("FailureReason") if job else None
            raise AirflowFailException(f"Transform job {name} ended {job['TransformJobStatus'] if job else 'unseen'}: "
                                       f"{reason or (event or {}).get('message') or 'no reason given'}")
        return super().execute_complete(context, event)

    def serialize_result(self, job_name: str) -> dict[str, dict]:
        """The provider's result, and the job's own duration (its serialized times are reprs, not to be parsed)."""
        result = super().serialize_result(job_name)
        job = self.hook.describe_transform_job(job_name)
        started, ended = job.get("TransformStartTime"), job.get("TransformEndTime")
        result["Transform"]["DurationSeconds"] = round((ended - started).total_seconds(), 3) if started and ended \
            else None
        return result

    def _attempt(self, base: str) -> tuple[str, dict[str, Any] | None]:
        """The job this try is about: the last attempt when it completed or runs, else the next name."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            name = base if attempt == 1 else f"{base}-{attempt}"
            job = self._describe(name)
            if job is None:
                return name, None
            if job["TransformJobStatus"] == "Completed" or job["TransformJobStatus"] in IN_PROGRESS:
                return name, job
            self.log.info("Transform job %s %s (%s): the next attempt gets its own name", name,
                          job["TransformJobStatus"], job.get("FailureReason") or "no reason given")
        raise AirflowFailException(f"Transform jobs {base} to {base}-{MAX_ATTEMPTS} all failed: see the last one's "
                                   "FailureReason; nothing more is started for this day and model")

    def _describe(self, name: str) -> dict[str, Any] | None:
        try:
            return self.hook.describe_transform_job(name)
        except ClientError as error:
            if "Could not find" in error.response.get("Error", {}).get("Message", ""):
                return None
            raise

    def _persist_link(self, context: Context, name: str) -> None:
        SageMakerTransformJobLink.persist(context=context, operator=self, region_name=self.hook.conn_region_name,
                                          aws_partition=self.hook.conn_partition,
                                          job_name=urllib.parse.quote(name, safe=""))
