"""What a step runner gets from the execution running it."""

from __future__ import annotations

import re
import secrets
import string
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import RequestError, StepFailure
from ..jobs.kinds import JobKind
from ..jobs.lifecycle import JobContext, JobRun
from ..jobs.request_checks import CHECKS

if TYPE_CHECKING:  # definition.py imports the step registry, which imports this module
    from ..definition_parser import StepDefinition


@dataclass
class StepRuntime:
    """One step's view of its execution: the job context, the step, expressions, the stop signal."""

    context: JobContext
    step: StepDefinition
    execution_id: str
    execution_arn: str
    stop_requested: threading.Event
    # Resolves the definition's expressions (Get, Std:Join, Std:JsonGet) at this point of the run.
    resolve: Callable[[Any], Any]
    # Shows a step's Metadata (job ARNs) in the step listing while it still runs.
    report_metadata: Callable[[dict[str, Any]], None]
    # ExperimentConfig of the jobs this execution creates (PipelineExperimentConfig), if any.
    experiment_config: dict[str, str] | None = None
    jobs: list[JobRun] = field(default_factory=list)
    _arguments: dict[str, Any] | None = None

    def arguments(self) -> dict[str, Any]:
        """The step's Arguments with every expression resolved (once)."""
        if self._arguments is None:
            self._arguments = self.resolve(self.step.arguments)
        return self._arguments

    def job_name(self) -> str:
        """Like SageMaker's `pipelines-<execution id>-<step>-<random>`, at most 63 characters."""
        step = step_in_job_names(self.step.name)
        suffix = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(10))
        return f"pipelines-{self.execution_id}-{step}-{suffix}"

    def new_job(self, kind: JobKind, request: dict[str, Any]) -> JobRun:
        """A job for this step, named as the pipeline service names it, tied to the execution."""
        request = {**request, "PipelineExecutionArn": self.execution_arn}
        if self.experiment_config:
            request["ExperimentConfig"] = {**self.experiment_config, "TrialComponentDisplayName": self.step.name}
        name = self.job_name()
        try:
            CHECKS[kind.key]({kind.name_field: name, **request})
        except RequestError as error:
            raise StepFailure(f"ValidationException: {error}") from None  # as the job's Create call would refuse it
        job = JobRun(kind, name, request, self.context, self.stop_requested)
        job.create()
        self.jobs.append(job)
        self.report_metadata({f"{kind.label}Job": {"Arn": job.arn}})
        return job


def step_in_job_names(step_name: str) -> str:
    """How a step's name appears in its jobs' names: letters, digits and hyphens, at most 26."""
    return re.sub(r"[^A-Za-z0-9-]", "-", step_name)[:26].strip("-") or "step"
