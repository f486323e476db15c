"""Every condition class of sagemaker.core.workflow.conditions, and the run conditions of
sagemaker.mlops.workflow (StepDependency), built with the SDK and run on the endpoint."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.support.pipelines import steps_by_name

from .sdk_pipelines import run_sdk_pipeline


def _cases() -> dict[str, tuple[Callable[[dict[str, Any]], Any], str]]:
    """name -> (condition built from the parameters, the outcome SageMaker gives it)."""
    from sagemaker.core.workflow.conditions import (
        ConditionEquals,
        ConditionGreaterThan,
        ConditionGreaterThanOrEqualTo,
        ConditionIn,
        ConditionLessThan,
        ConditionLessThanOrEqualTo,
        ConditionNot,
        ConditionOr,
    )
    from sagemaker.core.workflow.execution_variables import ExecutionVariables

    return {
        "EqualsTrue": (lambda p: ConditionEquals(p["Rounds"], 3), "True"),
        "EqualsFalse": (lambda p: ConditionEquals(p["Label"], "y"), "False"),
        "EqualsBoolean": (lambda p: ConditionEquals(p["Verbose"], False), "True"),
        "GreaterThanTrue": (lambda p: ConditionGreaterThan(p["Threshold"], 0.25), "True"),
        "GreaterThanFalse": (lambda p: ConditionGreaterThan(p["Threshold"], 0.5), "False"),
        "GreaterThanOrEqualToTrue": (lambda p: ConditionGreaterThanOrEqualTo(p["Threshold"], 0.5), "True"),
        "GreaterThanOrEqualToFalse": (lambda p: ConditionGreaterThanOrEqualTo(p["Rounds"], 4), "False"),
        "LessThanTrue": (lambda p: ConditionLessThan(p["Rounds"], 4), "True"),
        "LessThanFalse": (lambda p: ConditionLessThan(p["Threshold"], 0.5), "False"),
        "LessThanOrEqualToTrue": (lambda p: ConditionLessThanOrEqualTo(p["Rounds"], 3), "True"),
        "LessThanOrEqualToFalse": (lambda p: ConditionLessThanOrEqualTo(p["Threshold"], 0.1), "False"),
        "InTrue": (lambda p: ConditionIn(p["Label"], ["a", "x"]), "True"),
        "InFalse": (lambda p: ConditionIn(p["Rounds"], [1, 2]), "False"),
        "InExecutionVariable": (lambda p: ConditionIn(ExecutionVariables.PIPELINE_NAME, ["nope"]), "False"),
        "NotTrue": (lambda p: ConditionNot(ConditionEquals(p["Rounds"], 4)), "True"),
        "NotFalse": (lambda p: ConditionNot(ConditionEquals(p["Rounds"], 3)), "False"),
        "OrTrue": (lambda p: ConditionOr([ConditionLessThan(p["Rounds"], 1), ConditionEquals(p["Label"], "x")]), "True"),
        "OrFalse": (lambda p: ConditionOr([ConditionLessThan(p["Rounds"], 1), ConditionNot(ConditionIn(p["Label"], ["x"]))]), "False"),
    }


@pytest.fixture(scope="module")
def condition_outcomes(sagemaker, sdk_session) -> dict[str, dict[str, Any]]:
    """One pipeline, one ConditionStep per case, each with a Fail step in the branch not expected."""
    from sagemaker.core.workflow.parameters import ParameterBoolean, ParameterFloat, ParameterInteger, ParameterString
    from sagemaker.mlops.workflow.condition_step import ConditionStep
    from sagemaker.mlops.workflow.fail_step import FailStep

    parameters = {"Rounds": ParameterInteger("Rounds", default_value=3), "Threshold": ParameterFloat("Threshold", default_value=0.5),
                  "Label": ParameterString("Label", default_value="x"), "Verbose": ParameterBoolean("Verbose", default_value=False)}
    steps = []
    for name, (build, expected) in _cases().items():
        wrong_branch = [FailStep(name=f"{name}-WrongBranch", error_message=f"{name} took the wrong branch")]
        steps.append(ConditionStep(name=name, conditions=[build(parameters)],
                                   if_steps=wrong_branch if expected == "False" else [],
                                   else_steps=wrong_branch if expected == "True" else []))
    _, arn, description = run_sdk_pipeline(sagemaker, sdk_session, steps, list(parameters.values()))
    return {"description": description, "steps": steps_by_name(sagemaker, arn)}


@pytest.mark.parametrize("case", list(_cases()))
def test_sdk_condition_class_evaluates_as_sagemaker_does(condition_outcomes: dict[str, Any], case: str) -> None:
    _, expected = _cases()[case]
    step = condition_outcomes["steps"][case]
    assert step["StepStatus"] == "Succeeded", step.get("FailureReason")
    assert step["Metadata"]["Condition"]["Outcome"] == expected
    assert f"{case}-WrongBranch" not in condition_outcomes["steps"]


def test_all_sdk_conditions_leave_the_execution_succeeded(condition_outcomes: dict[str, Any]) -> None:
    assert condition_outcomes["description"]["PipelineExecutionStatus"] == "Succeeded"


def test_step_on_a_failed_step_runs_and_execution_completes_with_failures(sagemaker, sdk_session) -> None:
    from sagemaker.mlops.workflow.condition_step import ConditionStep
    from sagemaker.mlops.workflow.fail_step import FailStep
    from sagemaker.mlops.workflow.step_dependency import StepDependency, TriggerCondition

    failing = FailStep(name="Breaks", error_message="broken on purpose")
    on_failure = ConditionStep(name="OnFailure", depends_on=[StepDependency(failing, TriggerCondition.FAILED)])
    on_success = ConditionStep(name="OnSuccess", depends_on=[failing])
    on_any = ConditionStep(name="OnAny", depends_on=[StepDependency("Breaks", TriggerCondition.ANY)])
    _, arn, description = run_sdk_pipeline(sagemaker, sdk_session, [failing, on_failure, on_success, on_any])
    listed = steps_by_name(sagemaker, arn)
    assert listed["Breaks"]["StepStatus"] == "Failed"
    assert listed["OnFailure"]["StepStatus"] == listed["OnAny"]["StepStatus"] == "Succeeded"
    assert "OnSuccess" not in listed
    assert description["PipelineExecutionStatus"] == "CompletedWithFailures"


def test_failure_nothing_waits_for_fails_the_execution(sagemaker, sdk_session) -> None:
    from sagemaker.mlops.workflow.condition_step import ConditionStep
    from sagemaker.mlops.workflow.fail_step import FailStep
    from sagemaker.mlops.workflow.step_dependency import StepDependency, TriggerCondition

    failing = FailStep(name="Breaks", error_message="broken on purpose")
    on_stop = ConditionStep(name="OnStop", depends_on=[StepDependency(failing, TriggerCondition.STOPPED)])
    _, arn, description = run_sdk_pipeline(sagemaker, sdk_session, [failing, on_stop])
    assert description["PipelineExecutionStatus"] == "Failed"
    assert description["FailureReason"] == "broken on purpose"
    assert set(steps_by_name(sagemaker, arn)) == {"Breaks"}
