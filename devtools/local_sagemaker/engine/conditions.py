"""A Condition step's conditions, as the SDK serializes them and SageMaker reads them.

Shapes (`sagemaker.core.workflow.conditions`): comparisons
`{"Type": "Equals"|"GreaterThan"|..., "LeftValue": v, "RightValue": v}`, `{"Type": "In",
"QueryValue": v, "Values": [v, ...]}`, `{"Type": "Not", "Condition": {...}}` and `{"Type": "Or",
"Conditions": [...]}`. CreatePipeline refuses any other shape, as SageMaker does ("Cannot parse
object, unknown property 'Expression'"); evaluation can then rely on the shape.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import DefinitionError, StepFailure

_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "Equals": lambda left, right: left == right,
    "GreaterThan": lambda left, right: left > right,
    "GreaterThanOrEqualTo": lambda left, right: left >= right,
    "LessThan": lambda left, right: left < right,
    "LessThanOrEqualTo": lambda left, right: left <= right,
}
# Each condition type and the properties it has beside "Type".
CONDITION_PROPERTIES: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(_COMPARISONS, ("LeftValue", "RightValue")),
    "In": ("QueryValue", "Values"),
    "Not": ("Condition",),
    "Or": ("Conditions",),
}


def validate_conditions(step_name: str, conditions: Any) -> None:
    """Raise DefinitionError naming the step and the property, as CreatePipeline refuses it."""
    if not isinstance(conditions, list):
        raise DefinitionError(f"Step '{step_name}' Conditions must be a list of conditions")
    for condition in conditions:
        _validate(step_name, condition)


def _validate(step_name: str, condition: Any) -> None:
    if not isinstance(condition, dict):
        raise DefinitionError(f"Step '{step_name}': a condition must be an object, got {condition!r}")
    kind = condition.get("Type")
    if kind not in CONDITION_PROPERTIES:
        raise DefinitionError(
            f"Step '{step_name}': unknown condition Type {kind!r}; allowed: {', '.join(CONDITION_PROPERTIES)}"
        )
    allowed = CONDITION_PROPERTIES[kind]
    for key in condition:
        if key != "Type" and key not in allowed:
            raise DefinitionError(
                f"Unable to parse pipeline definition. Cannot parse object, unknown property '{key}' "
                f"in a {kind} condition of step '{step_name}'; its properties are: {', '.join(allowed)}"
            )
    for key in allowed:
        if key not in condition:
            raise DefinitionError(f"Step '{step_name}': the {kind} condition needs '{key}'")
    if kind == "Not":
        _validate(step_name, condition["Condition"])
    elif kind == "Or":
        validate_conditions(step_name, condition["Conditions"])
    elif kind == "In" and not isinstance(condition["Values"], list):
        raise DefinitionError(f"Step '{step_name}': the In condition's 'Values' must be a list")


def evaluate_all(conditions: list[dict[str, Any]], resolve: Callable[[Any], Any]) -> bool:
    return all(evaluate(condition, resolve) for condition in conditions)


def evaluate(condition: dict[str, Any], resolve: Callable[[Any], Any]) -> bool:
    kind = condition["Type"]
    if kind in _COMPARISONS:
        left, right = _comparable(resolve(condition["LeftValue"]), resolve(condition["RightValue"]), kind)
        return _COMPARISONS[kind](left, right)
    if kind == "In":
        query = resolve(condition["QueryValue"])
        return any(_equals(*_comparable(query, resolve(value), kind)) for value in condition["Values"])
    if kind == "Not":
        return not evaluate(condition["Condition"], resolve)
    return any(evaluate(item, resolve) for item in condition["Conditions"])  # Or


def _comparable(left: Any, right: Any, kind: str) -> tuple[Any, Any]:
    """Numbers compare as numbers even when one side arrived as a string (JsonGet, params)."""
    if _is_number(left) or _is_number(right):
        try:
            return float(left), float(right)
        except (TypeError, ValueError):
            raise StepFailure(
                f"Condition {kind} cannot compare {left!r} with {right!r}: not both numbers"
            ) from None
    if type(left) is not type(right) and kind not in ("Equals", "In"):
        raise StepFailure(f"Condition {kind} cannot compare {left!r} with {right!r}")
    return left, right


def _equals(left: Any, right: Any) -> bool:
    return left == right


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
