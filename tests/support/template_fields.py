"""The provider's check of an operator's template fields: each is an attribute the constructor set."""

from __future__ import annotations

import inspect
from typing import Any


def assert_template_fields_are_constructor_attributes(operator: Any) -> None:
    """Every templated field exists on the instance and is a constructor argument of the same name
    (so a DAG can pass it, and Airflow renders what the operator actually reads)."""
    parameters: set[str] = set()
    for klass in type(operator).__mro__:
        if "__init__" in vars(klass):
            parameters |= set(inspect.signature(klass.__init__).parameters)
    for field in operator.template_fields:
        assert hasattr(operator, field), f"{type(operator).__name__}.{field} is templated but never set"
        assert field in parameters, f"{type(operator).__name__}.{field} is templated but is no constructor argument"
