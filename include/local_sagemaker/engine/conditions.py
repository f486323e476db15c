"""Evaluate a Condition step's conditions (all must hold), as the schema defines them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import StepFailure

_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "Equals": lambda left, right: left == right,
    "GreaterThan": lambda left, right: left > right,
    "GreaterThanOrEqualTo": lambda left, right: left >= right,
    "LessThan": lambda left, right: left < right,
    "LessThanOrEqualTo": lambda left, right: left <= right,
}
CONDITION_TYPES = (*_COMPARISONS, "In", "Not", "Or")


def evaluate_all(conditions: list[dict[str, Any]], resolve: Callable[[Any], Any]) -> bool:
    return all(evaluate(condition, resolve) for condition in conditions)


def evaluate(condition: dict[str, Any], resolve: Callable[[Any], Any]) -> bool:
    kind = condition.get("Type")
    # The schema puts the operands beside Type; an "Arguments" wrapper is accepted too.
    arguments = condition.get("Arguments") or condition
    if kind in _COMPARISONS:
        left, right = _comparable(
            resolve(arguments.get("LeftValue")), resolve(arguments.get("RightValue")), kind
        )
        return _COMPARISONS[kind](left, right)
    if kind == "In":
        query = resolve(arguments.get("QueryValue"))
        values = [resolve(value) for value in arguments.get("Values") or []]
        return any(_equals(*_comparable(query, value, kind)) for value in values)
    if kind == "Not":
        return not evaluate(arguments.get("Expression") or {}, resolve)
    if kind == "Or":
        return any(evaluate(item, resolve) for item in arguments.get("Conditions") or [])
    raise StepFailure(f"Unknown condition Type {kind!r}; supported: {', '.join(CONDITION_TYPES)}")


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
