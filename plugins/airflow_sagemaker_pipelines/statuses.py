"""Every status SageMaker gives a pipeline execution or one of its steps, and what it means here.

The one place the package classifies statuses: the start operator, the sensor, the trigger and the
step log read them from here. `tests/plugins/test_statuses.py` classifies every value of botocore's
`PipelineExecutionStatus` and `StepStatus` enums, so a status AWS adds later fails a test instead of
leaving a wait polling until its timeout. A status met at run time that is not listed here is an
error that names it (`execution_outcome`), never "still running".
"""

from __future__ import annotations

from typing import Literal

# --- executions (DescribePipelineExecution's PipelineExecutionStatus) ----------------------
EXECUTION_SUCCEEDED = "Succeeded"
EXECUTION_FAILED = "Failed"  # a step failed (a Fail step's verdict included) and nothing ran on its failure
EXECUTION_STOPPED = "Stopped"
EXECUTION_RUNNING = frozenset({"Executing", "Stopping"})
# Ended without succeeding: Failed, Stopped, or CompletedWithFailures (every failed step had a
# step that ran on its failure; the execution is over and some of its steps failed).
EXECUTION_UNSUCCESSFUL = frozenset({EXECUTION_FAILED, EXECUTION_STOPPED, "CompletedWithFailures"})
EXECUTION_ENDED = EXECUTION_UNSUCCESSFUL | {EXECUTION_SUCCEEDED}
# What RetryPipelineExecution accepts: the failed steps run again, the succeeded ones are kept.
EXECUTION_RESUMABLE = frozenset({EXECUTION_FAILED, EXECUTION_STOPPED})

# --- steps (ListPipelineExecutionSteps' StepStatus) -----------------------------------------
STEP_SUCCEEDED = "Succeeded"
STEP_RUNNING = frozenset({"Starting", "Executing", "Stopping"})
STEP_UNSUCCESSFUL = frozenset({"Failed", "Stopped"})
STEP_ENDED = STEP_UNSUCCESSFUL | {STEP_SUCCEEDED}

ExecutionOutcome = Literal["running", "succeeded", "unsuccessful"]


class UnknownStatusError(ValueError):
    """SageMaker answered a status this package does not know: say which, rather than wait on it."""


def execution_outcome(status: str) -> ExecutionOutcome:
    """Where an execution with this status stands; an unknown status is an UnknownStatusError."""
    if status in EXECUTION_RUNNING:
        return "running"
    if status == EXECUTION_SUCCEEDED:
        return "succeeded"
    if status in EXECUTION_UNSUCCESSFUL:
        return "unsuccessful"
    known = sorted(EXECUTION_RUNNING | EXECUTION_ENDED)
    raise UnknownStatusError(f"SageMaker reported the pipeline execution status {status!r}, which this package "
                             f"does not know (known: {', '.join(known)}): upgrade airflow-sagemaker-pipelines")
