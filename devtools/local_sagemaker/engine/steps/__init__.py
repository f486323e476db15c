"""The step types the engine runs: RUNNERS is the one list of them.

CreatePipeline refuses a step type that is not here; the execution dispatches through it.
`cache_key_fields` are the arguments SageMaker's step cache compares for that type
("Default cache key attributes by pipeline step type"); a type without them is never cached.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..conditions import validate_conditions
from ..outcome import StepOutcome
from .callback import run_callback_step
from .check_steps import check_quality_check_step, run_quality_check_step
from .control import run_condition_step, run_fail_step
from .job_steps import run_processing_step, run_training_step, run_transform_step
from .model_steps import run_model_step, run_register_model_step
from .step_runtime import StepRuntime
from .tuning_step import run_tuning_step

if TYPE_CHECKING:
    from ..definition_parser import StepDefinition


def _no_check(_: StepDefinition) -> None:
    return None


def _check_condition(step: StepDefinition) -> None:
    validate_conditions(step.name, step.arguments.get("Conditions") or [])


@dataclass(frozen=True)
class StepType:
    run: Callable[[StepRuntime], StepOutcome]
    cache_key_fields: tuple[str, ...] = ()
    # Checks the step's arguments when the definition is created; raises DefinitionError.
    check: Callable[[Any], None] = _no_check


RUNNERS: dict[str, StepType] = {
    "Processing": StepType(run_processing_step, ("AppSpecification", "Environment", "ProcessingInputs")),
    "Training": StepType(run_training_step, ("AlgorithmSpecification", "CheckpointConfig", "DebugHookConfig",
                                             "DebugRuleConfigurations", "Environment", "HyperParameters",
                                             "InputDataConfig")),
    "Transform": StepType(run_transform_step, ("DataProcessing", "Environment", "ModelName", "TransformInput")),
    "RegisterModel": StepType(run_register_model_step),
    "Model": StepType(run_model_step),
    "Condition": StepType(run_condition_step, check=_check_condition),
    "Fail": StepType(run_fail_step),
    "Callback": StepType(run_callback_step),
    "Tuning": StepType(run_tuning_step, ("HyperParameterTuningJobConfig", "TrainingJobDefinition",
                                         "TrainingJobDefinitions")),
    # Not cached: the local endpoint does not list QualityCheck's cache key attributes.
    "QualityCheck": StepType(run_quality_check_step, check=check_quality_check_step),
}
