"""JSON as the Model Monitor analyzer writes it: Jackson's default pretty printer, Java's doubles.

The analyzer is a Spark (JVM) program; its statistics.json, constraints.json and
constraint_violations.json come out of Jackson's DefaultPrettyPrinter: `"key" : value`, two
spaces per object level, arrays inline (`[ 1.0, 2.0 ]`, `[ {` ... `}, {` ... `} ]`), `{ }` and
`[ ]` when empty; numbers a Java Double prints as `Double.toString` does (`100.0`, `0.64`,
`1.0E-4`). Parsers read it like any JSON; people diffing a local file against AWS's see the same text.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

_INDENT = "  "


def java_double(value: float) -> str:
    """`Double.toString(value)`: plain between 1e-3 and 1e7, else `<d.ddd>E<exp>`; always a decimal point."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    magnitude = abs(value)
    if 1e-3 <= magnitude < 1e7:
        return repr(value)  # Python's shortest round-trip digits, as Java's (JDK 19+), in plain notation
    _, digits, exponent = Decimal(repr(magnitude)).normalize().as_tuple()
    text = "".join(str(digit) for digit in digits)
    assert isinstance(exponent, int)
    mantissa = f"{text[0]}.{text[1:] or '0'}"
    return f"{'-' if value < 0 else ''}{mantissa}E{len(text) - 1 + exponent}"


def dumps(value: Any, level: int = 0) -> str:
    """`value` (dicts, lists, str, int, float, bool, None) as the analyzer's Jackson writer prints it."""
    if isinstance(value, dict):
        if not value:
            return "{ }"
        inner = _INDENT * (level + 1)
        members = ",\n".join(f"{inner}{_string(str(key))} : {dumps(item, level + 1)}" for key, item in value.items())
        return "{\n" + members + "\n" + _INDENT * level + "}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[ ]"
        # Jackson's array indenter is inline: an array's items stay at its own level.
        return "[ " + ", ".join(dumps(item, level) for item in value) + " ]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return java_double(value)
    return _string(str(value))


def _string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # Jackson leaves non-ASCII characters as they are
