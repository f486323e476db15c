"""Pipeline parameter values: defaults, StartPipelineExecution overrides, and their types."""

from __future__ import annotations

from typing import Any

from .definition_parser import ParameterDefinition


class ParameterError(ValueError):
    """An unknown parameter or a value of the wrong type (ValidationException)."""


def _typed(definition: ParameterDefinition, value: Any) -> Any:
    text = value if isinstance(value, str) else None
    try:
        if definition.type == "Integer":
            if isinstance(value, bool):
                raise ValueError
            if isinstance(value, int):
                return value
            number = float(text) if text is not None else float(value)
            if not number.is_integer():
                raise ValueError
            return int(number)
        if definition.type == "Float":
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if definition.type == "Boolean":
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("true", "false"):
                return str(value).lower() == "true"
            raise ValueError
    except (TypeError, ValueError):
        allowed = {"Integer": "an integer", "Float": "a number", "Boolean": "true or false"}[definition.type]
        raise ParameterError(
            f"Value '{value}' for parameter '{definition.name}' is not valid for type "
            f"{definition.type}: it must be {allowed}"
        ) from None
    return str(value)


def resolve_parameters(
    definitions: dict[str, ParameterDefinition], overrides: list[dict[str, Any]] | None
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for item in overrides or []:
        name = item.get("Name")
        if name not in definitions:
            allowed = ", ".join(sorted(definitions)) or "none"
            raise ParameterError(
                f"Parameter '{name}' is not defined in the pipeline; its parameters are: {allowed}"
            )
        if name in values:
            raise ParameterError(f"Parameter '{name}' is given more than once")
        values[name] = _typed(definitions[name], item.get("Value"))
    for name, definition in definitions.items():
        if name in values:
            continue
        if not definition.has_default:
            raise ParameterError(f"Parameter '{name}' has no default value and was not given")
        values[name] = _typed(definition, definition.default)
    return values
