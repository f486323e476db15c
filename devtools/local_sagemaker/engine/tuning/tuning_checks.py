"""What CreateHyperParameterTuningJob refuses at once, in AWS's wording, naming the field.

A malformed request (name, enum, a missing member, a limit) is "1 validation error detected: Value
'x' at 'hyperParameterTuningJobConfig.strategy' failed to satisfy constraint: ..."; what AWS checks
beyond the shapes (a range whose MinValue is above its MaxValue, a log scale under zero, an
objective metric the algorithm does not emit, fewer combinations than MaxNumberOfTrainingJobs)
is a sentence naming the field and the value. Each training job definition is checked as
CreateTrainingJob checks a request, with the definition's path in front of the field.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from ..builtin_algorithms import KMEANS, KNN, LINEAR_LEARNER, XGBOOST, builtin_algorithm
from ..errors import RequestError
from ..jobs.request_checks import _refuse, check_training_request
from .space import Parameter, combinations, parameters

TUNING_JOB_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}$")
STRATEGIES = ("Bayesian", "Random", "Hyperband", "Grid")
OBJECTIVE_TYPES = ("Maximize", "Minimize")
SCALING_TYPES = ("Auto", "Linear", "Logarithmic", "ReverseLogarithmic")
EARLY_STOPPING_TYPES = ("Off", "Auto")
MAX_RUNTIME = (120, 15768000)
RANGE_KINDS = ("IntegerParameterRanges", "ContinuousParameterRanges", "CategoricalParameterRanges")
DEFAULT_DEFINITION_NAME = "training-job-definition"

# The objective metrics each built-in algorithm emits (the algorithms' tuning pages); the local
# containers emit these names (the XGBoost ones it computes natively, see xgboost_algorithm.py).
_XGBOOST_METRICS = ("accuracy", "auc", "aucpr", "error", "f1", "logloss", "mae", "map", "merror", "mlogloss",
                    "mse", "ndcg", "rmse")
_LINEAR_METRICS = ("objective_loss", "binary_classification_accuracy", "precision", "recall", "binary_f_beta",
                   "roc_auc_score", "multiclass_accuracy", "macro_precision", "macro_recall", "macro_f_beta",
                   "mse", "rmse", "absolute_loss")
ALGORITHM_METRICS: dict[str, tuple[str, ...]] = {
    XGBOOST: tuple(f"{channel}:{metric}" for channel in ("validation", "train") for metric in _XGBOOST_METRICS),
    KNN: ("test:accuracy", "test:mse"),
    LINEAR_LEARNER: tuple(f"{channel}:{metric}" for channel in ("validation", "test") for metric in _LINEAR_METRICS),
    KMEANS: ("test:msd", "test:ssd"),
}


@dataclass(frozen=True)
class TrainingDefinition:
    """One training job definition with the ranges and objective its trials use."""

    name: str
    definition: dict[str, Any]
    space: list[Parameter]
    objective: dict[str, str]
    static: dict[str, str]


def check_tuning_request(request: dict[str, Any]) -> list[TrainingDefinition]:
    """Refuse a malformed request (RequestError); return its training job definitions, ready to run."""
    name = request.get("HyperParameterTuningJobName")
    if not isinstance(name, str) or not TUNING_JOB_NAME.match(name):
        raise _refuse(name, "hyperParameterTuningJobName",
                      f"Member must satisfy regular expression pattern: {TUNING_JOB_NAME.pattern}")
    config = request.get("HyperParameterTuningJobConfig")
    if not isinstance(config, dict):
        raise _refuse("null", "hyperParameterTuningJobConfig", "Member must not be null")
    strategy = config.get("Strategy")
    _enum(strategy, STRATEGIES, "hyperParameterTuningJobConfig.strategy")
    _enum(config.get("TrainingJobEarlyStoppingType"), EARLY_STOPPING_TYPES,
          "hyperParameterTuningJobConfig.trainingJobEarlyStoppingType")
    limits = config.get("ResourceLimits")
    if not isinstance(limits, dict):
        raise _refuse("null", "hyperParameterTuningJobConfig.resourceLimits", "Member must not be null")
    _positive(limits.get("MaxParallelTrainingJobs"), "hyperParameterTuningJobConfig.resourceLimits.maxParallelTrainingJobs",
              required=True)
    maximum = limits.get("MaxNumberOfTrainingJobs")
    _positive(maximum, "hyperParameterTuningJobConfig.resourceLimits.maxNumberOfTrainingJobs", required=strategy != "Grid")
    runtime = limits.get("MaxRuntimeInSeconds")
    if runtime is not None and (not isinstance(runtime, int) or not MAX_RUNTIME[0] <= runtime <= MAX_RUNTIME[1]):
        raise _refuse(runtime, "hyperParameterTuningJobConfig.resourceLimits.maxRuntimeInSeconds",
                      f"Member must have value between {MAX_RUNTIME[0]} and {MAX_RUNTIME[1]}")

    single, several = request.get("TrainingJobDefinition"), request.get("TrainingJobDefinitions")
    if bool(single) == bool(several):
        raise RequestError("Provide either TrainingJobDefinition or TrainingJobDefinitions, not both and not neither")
    if single:
        items = [(single, "trainingJobDefinition", DEFAULT_DEFINITION_NAME)]
    else:
        items = []
        for index, item in enumerate(several, start=1):
            where = f"trainingJobDefinitions.{index}.member"
            if not item.get("DefinitionName"):
                raise _refuse("null", f"{where}.definitionName",
                              "Member must not be null: each of several training job definitions is named")
            items.append((item, where, item["DefinitionName"]))
        names = [definition_name for _, _, definition_name in items]
        if len(set(names)) != len(names):
            raise RequestError(f"TrainingJobDefinitions: DefinitionName must be unique; got {names}")

    definitions = []
    for definition, where, definition_name in items:
        ranges, ranges_at = definition.get("HyperParameterRanges"), f"{where}.hyperParameterRanges"
        if ranges is None:
            ranges, ranges_at = config.get("ParameterRanges"), "hyperParameterTuningJobConfig.parameterRanges"
        objective, objective_at = definition.get("TuningObjective"), f"{where}.tuningObjective"
        if objective is None:
            objective = config.get("HyperParameterTuningJobObjective")
            objective_at = "hyperParameterTuningJobConfig.hyperParameterTuningJobObjective"
        static = {str(k): str(v) for k, v in (definition.get("StaticHyperParameters") or {}).items()}
        space = _check_ranges(ranges, ranges_at, strategy, static)
        _check_objective(objective, objective_at, definition, where)
        _check_definition(definition, where, name)
        definitions.append(TrainingDefinition(definition_name, definition, space, dict(objective), static))

    for definition in definitions:
        count = combinations(definition.space)
        if count is not None and maximum is not None and strategy != "Grid" and count < maximum:
            raise RequestError(
                "You don't have enough combinations of hyperparameter ranges. The total number of hyperparameter "
                f"combinations for the provided ranges [{float(count)}] must be equal or greater than the value of "
                f"MaxNumberOfTrainingJobs, [{maximum}]. Provide additional ranges."
            )
    return definitions


def _enum(value: Any, allowed: tuple[str, ...], attribute: str) -> None:
    if value is not None and value not in allowed:
        raise _refuse(value, attribute, f"Member must satisfy enum value set: [{', '.join(allowed)}]")


def _positive(value: Any, attribute: str, required: bool) -> None:
    if value is None:
        if required:
            raise _refuse("null", attribute, "Member must not be null")
        return
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise _refuse(value, attribute, "Member must have value greater than or equal to 1")


def _number(value: Any, attribute: str, integer: bool) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if math.isnan(number) or math.isinf(number) or (integer and number != int(number)):
        kind = "an integer" if integer else "a number"
        raise _refuse("null" if value is None else value, attribute, f"Member must be {kind}")
    return number


def _check_ranges(ranges: Any, where: str, strategy: str, static: dict[str, str]) -> list[Parameter]:
    ranges = ranges if isinstance(ranges, dict) else {}
    if ranges.get("AutoParameters"):
        raise RequestError(f"{where}.autoParameters: Autotune's automatic ranges are not emulated by the local "
                           "endpoint; give IntegerParameterRanges, ContinuousParameterRanges or CategoricalParameterRanges")
    if not any(ranges.get(kind) for kind in RANGE_KINDS):
        raise RequestError(
            f"{where}: the tuning job has no hyperparameter to tune; give at least one of IntegerParameterRanges, "
            "ContinuousParameterRanges or CategoricalParameterRanges"
        )
    seen: set[str] = set()
    for kind in RANGE_KINDS:
        attribute_kind = kind[0].lower() + kind[1:]
        for index, item in enumerate(ranges.get(kind) or [], start=1):
            at = f"{where}.{attribute_kind}.{index}.member"
            name = item.get("Name")
            if not name:
                raise _refuse("null", f"{at}.name", "Member must not be null")
            if name in seen:
                raise RequestError(f"{at}.name: hyperparameter '{name}' has more than one range")
            if name in static:
                raise RequestError(f"{at}.name: hyperparameter '{name}' is both static (StaticHyperParameters) and tuned")
            seen.add(name)
            if kind == "CategoricalParameterRanges":
                if not item.get("Values"):
                    raise _refuse("null", f"{at}.values", "Member must have length greater than or equal to 1")
                continue
            if strategy == "Grid":
                raise RequestError(
                    f"{at}: the Grid strategy supports CategoricalParameterRanges only; '{name}' is in {kind}"
                )
            integer = kind == "IntegerParameterRanges"
            low = _number(item.get("MinValue"), f"{at}.minValue", integer)
            high = _number(item.get("MaxValue"), f"{at}.maxValue", integer)
            scaling = item.get("ScalingType")
            _enum(scaling, SCALING_TYPES, f"{at}.scalingType")
            if low > high:
                raise RequestError(
                    f"{at}.minValue: MinValue {item['MinValue']} of hyperparameter '{name}' is greater than its MaxValue {item['MaxValue']}"
                )
            if scaling == "Logarithmic" and low <= 0:
                raise RequestError(
                    f"{at}.scalingType: Logarithmic scaling of hyperparameter '{name}' needs a MinValue greater than 0; got {item['MinValue']}"
                )
            if scaling == "ReverseLogarithmic" and (integer or not 0 <= low < high < 1):
                raise RequestError(
                    f"{at}.scalingType: ReverseLogarithmic scaling of hyperparameter '{name}' is for continuous ranges "
                    f"within 0 <= MinValue < MaxValue < 1; got {item['MinValue']} to {item['MaxValue']}"
                )
    return parameters(ranges)


def _check_objective(objective: Any, where: str, definition: dict[str, Any], definition_at: str) -> None:
    if not isinstance(objective, dict):
        raise _refuse("null", where, "Member must not be null: a tuning job needs an objective (Type, MetricName)")
    _enum(objective.get("Type"), OBJECTIVE_TYPES, f"{where}.type")
    if not objective.get("Type"):
        raise _refuse("null", f"{where}.type", "Member must not be null")
    metric = objective.get("MetricName")
    if not metric:
        raise _refuse("null", f"{where}.metricName", "Member must not be null")
    algorithm = definition.get("AlgorithmSpecification") or {}
    declared = [item.get("Name") for item in algorithm.get("MetricDefinitions") or []]
    builtin = builtin_algorithm(algorithm.get("TrainingImage") or "")
    if builtin and not declared:
        valid = ALGORITHM_METRICS[builtin]
        if metric not in valid:
            label = "XGBoost" if builtin == XGBOOST else builtin
            raise RequestError(
                f"{where}.metricName: the objective metric for the hyperparameter tuning job, [{metric}], isn't valid "
                f"for the [{label}] algorithm. Choose a valid objective metric: {', '.join(valid)}"
            )
        return
    if metric not in declared:
        raise RequestError(
            f"{where}.metricName: the objective metric [{metric}] is not one of the training job definition's "
            f"MetricDefinitions ({', '.join(map(str, declared)) or 'none'}); add a MetricDefinition whose Regex finds "
            f"it in the training log ({definition_at}.algorithmSpecification.metricDefinitions)"
        )


def _check_definition(definition: dict[str, Any], where: str, tuning_name: str) -> None:
    """The definition as CreateTrainingJob would check its trials' requests, the path in front of each field."""
    trial = {**definition, "TrainingJobName": f"{tuning_name}-001-00000000",
             "ResourceConfig": definition.get("ResourceConfig") or {"InstanceType": "ml.m5.large", "InstanceCount": 1}}
    try:
        check_training_request(trial)
    except RequestError as error:
        message = re.sub(r"at '([^']+)'", lambda match: f"at '{where}.{match.group(1)}'", str(error), count=1)
        raise RequestError(message) from None
