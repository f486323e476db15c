"""A SageMaker job named after what it does (a day, a model), run once whatever retries or clears.

The provider's job operators either fail on a name in use or create another job under a
timestamped name: a cleared run would do its work twice. Here what exists under the name is looked
at first: a Completed job is the result, a running one is waited for, and only after a failed or
stopped one is the next attempt created (`<name>-2`, `-3`, ...), its output in a folder of its
own, so a failed attempt's partial output is never mixed in.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.common.compat.sdk import AirflowFailException
from botocore.exceptions import ClientError

IN_PROGRESS = ("InProgress", "Stopping")
MAX_ATTEMPTS = 20


class JobAttempts:
    """The attempts of one job kind: `describe` is the hook's Describe<Kind>Job, `status_key` its status field."""

    def __init__(self, kind: str, describe: Any, status_key: str, log: Any) -> None:
        self.kind, self.describe_job, self.status_key, self.log = kind, describe, status_key, log

    def current(self, base: str) -> tuple[str, dict[str, Any] | None]:
        """The job this try is about: the last attempt when it completed or runs, else the next name (and None)."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            name = base if attempt == 1 else f"{base}-{attempt}"
            job = self.describe(name)
            if job is None:
                return name, None
            if job[self.status_key] == "Completed" or job[self.status_key] in IN_PROGRESS:
                return name, job
            self.log.info("%s job %s %s (%s): the next attempt gets its own name", self.kind, name,
                          job[self.status_key], job.get("FailureReason") or "no reason given")
        raise AirflowFailException(f"{self.kind} jobs {base} to {base}-{MAX_ATTEMPTS} all failed: see the last one's "
                                   "FailureReason; nothing more is started for it")

    def trigger(self, name: str, operator: Any) -> Any:
        """The provider's trigger waiting on job `name`, as `operator` (a provider SageMaker operator) builds it."""
        from airflow.providers.amazon.aws.triggers.sagemaker import SageMakerTrigger

        return SageMakerTrigger(job_name=name, job_type=self.kind, waiter_delay=operator.check_interval,
                                waiter_max_attempts=operator.max_attempts, aws_conn_id=operator.aws_conn_id,
                                region_name=operator.region_name, verify=operator.verify,
                                botocore_config=operator.botocore_config)

    def describe(self, name: str) -> dict[str, Any] | None:
        try:
            return self.describe_job(name)
        except ClientError as error:
            if "Could not find" in error.response.get("Error", {}).get("Message", ""):
                return None
            raise

    def failure(self, name: str, event: dict[str, Any] | None) -> AirflowFailException:
        """The error for a job that did not complete, with SageMaker's reason."""
        job = self.describe(name)
        reason = job.get("FailureReason") if job else None
        return AirflowFailException(f"{self.kind} job {name} ended {job[self.status_key] if job else 'unseen'}: "
                                    f"{reason or (event or {}).get('message') or 'no reason given'}")
