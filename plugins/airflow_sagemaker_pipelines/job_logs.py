"""Copy the end of a failed step's job log (CloudWatch Logs) into the Airflow task log.

The failure reason says what failed; the last lines of the job's own output usually say why.
"""

from __future__ import annotations

import logging
from typing import Any

from airflow.providers.amazon.aws.hooks.logs import AwsLogsHook

LOG_GROUPS = {"ProcessingJob": "/aws/sagemaker/ProcessingJobs", "TrainingJob": "/aws/sagemaker/TrainingJobs"}


def step_job(hook: Any, step: dict[str, Any]) -> tuple[str, str] | None:
    """(log group, job name) of a processing or training step, else None.

    Job ARNs are lower-cased while log streams keep the job name's case, so the name is read
    back from the job itself.
    """
    metadata = step.get("Metadata") or {}
    for kind, group in LOG_GROUPS.items():
        arn = (metadata.get(kind) or {}).get("Arn")
        if arn:
            name = arn.rsplit("/", 1)[-1]
            if kind == "ProcessingJob":
                return group, hook.describe_processing_job(name)["ProcessingJobName"]
            return group, hook.describe_training_job(name)["TrainingJobName"]
    return None


def log_tail_of_step(hook: Any, execution_arn: str, step_name: str, lines: int, log: logging.Logger) -> None:
    """Log the last `lines` lines of the step's job; a step without a job, or no log, is said so."""
    if lines <= 0:
        return
    step = next((s for s in hook.list_execution_steps(execution_arn) if s["StepName"] == step_name), None)
    job = step_job(hook, step) if step else None
    if job is None:
        return
    group, job_name = job
    logs = AwsLogsHook(aws_conn_id=hook.aws_conn_id, region_name=hook.region_name, verify=hook.verify)
    streams = logs.conn.describe_log_streams(logGroupName=group, logStreamNamePrefix=f"{job_name}/").get("logStreams", [])
    if not streams:
        log.info("No CloudWatch log stream for job %s in %s", job_name, group)
        return
    for stream in streams:
        events = logs.conn.get_log_events(
            logGroupName=group, logStreamName=stream["logStreamName"], limit=lines, startFromHead=False
        )["events"]
        if not events:
            log.info("Job %s wrote no log lines (%s)", job_name, stream["logStreamName"])
            continue
        log.error("Last %d lines of %s (%s):\n%s", len(events), job_name, stream["logStreamName"],
                  "\n".join(event["message"].rstrip() for event in events))
