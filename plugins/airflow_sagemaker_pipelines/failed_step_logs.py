"""Copy the end of a failed step's job log (CloudWatch Logs) into the Airflow task log.

The failure reason says what failed; the last lines of the job's own output usually say why.
"""

from __future__ import annotations

import logging
from typing import Any

from .hooks.job_logs import JobLogsHook
from .hooks.pipeline_execution import PipelineExecutionHook

LOG_GROUPS = {"ProcessingJob": "/aws/sagemaker/ProcessingJobs", "TrainingJob": "/aws/sagemaker/TrainingJobs"}


def step_job(hook: PipelineExecutionHook, step: dict[str, Any]) -> tuple[str, str] | None:
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


def step_log_tails(hook: PipelineExecutionHook, step: dict[str, Any],
                   lines: int) -> tuple[str, str, dict[str, list[str]]] | None:
    """(log group, job name, stream -> its last `lines` messages) of a step's job; None for a step without one."""
    job = step_job(hook, step)
    if job is None:
        return None
    group, job_name = job
    logs = JobLogsHook(aws_conn_id=hook.aws_conn_id, region_name=hook.region_name, verify=hook.verify,
                       config=hook.config)
    return group, job_name, logs.job_log_tails(group, job_name, lines)


def log_tail_of_step(
    hook: PipelineExecutionHook, execution_arn: str, step_name: str, lines: int, log: logging.Logger
) -> None:
    """Log the last `lines` lines of the step's job; a step without a job, or no log, is said so."""
    if lines <= 0:
        return
    step = next((s for s in hook.list_execution_steps(execution_arn) if s["StepName"] == step_name), None)
    found = step_log_tails(hook, step, lines) if step else None
    if found is None:
        return
    group, job_name, tails = found
    if not tails:
        log.info("No CloudWatch log stream for job %s in %s", job_name, group)
    for stream, messages in tails.items():
        if messages:
            log.error("Last %d lines of %s (%s):\n%s", len(messages), job_name, stream, "\n".join(messages))
        else:
            log.info("Job %s wrote no log lines (%s)", job_name, stream)
