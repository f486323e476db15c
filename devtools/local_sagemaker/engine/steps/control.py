"""Condition and Fail steps: decisions the pipeline service takes itself, no job involved."""

from __future__ import annotations

from ..conditions import evaluate_all
from ..errors import StepFailure
from ..outcome import StepOutcome
from .step_runtime import StepRuntime


def run_condition_step(runtime: StepRuntime) -> StepOutcome:
    """Outcome True runs IfSteps, False runs ElseSteps; only Conditions are resolved here."""
    outcome = "True" if evaluate_all(runtime.step.arguments.get("Conditions") or [], runtime.resolve) else "False"
    return StepOutcome({"Outcome": outcome}, {"Condition": {"Outcome": outcome}})


def run_fail_step(runtime: StepRuntime) -> StepOutcome:
    """The execution fails with the step's ErrorMessage as its FailureReason."""
    message = str(runtime.resolve(runtime.step.arguments.get("ErrorMessage", "")))
    runtime.report_metadata({"Fail": {"ErrorMessage": message}})
    raise StepFailure(message)
