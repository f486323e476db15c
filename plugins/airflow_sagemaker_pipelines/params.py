"""What the trigger form's values mean, where a person may write them two ways.

A threshold or margin on AUC is a fraction (0.75), but people type percentages (75): the form
accepts both, up to 100, and `as_fraction` (a macro of the DAG) reads a value above 1 as a
percentage, saying so in the task log, instead of the form clamping 75 to 1 and rejecting every
model. A value the form lets through but no reading makes sense of is refused by name.
"""

from __future__ import annotations

import logging
import math
from typing import Any

log = logging.getLogger(__name__)
PERCENT_MAX = 100.0


def as_fraction(value: Any, name: str = "value") -> float:
    """0.75 -> 0.75; 75 -> 0.75 (a percentage); a value outside 0-100, NaN or not a number is a ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{name}={value!r}: expected a fraction such as 0.75 or a percentage such as 75")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{name}={value!r}: expected a fraction such as 0.75 or a percentage such as 75") from None
    if math.isnan(number) or not 0.0 <= number <= PERCENT_MAX:
        raise ValueError(f"{name}={value!r}: expected a fraction from 0 to 1, or a percentage from 0 to 100")
    if number > 1.0:
        log.info("%s=%g read as a percentage: %g", name, number, number / PERCENT_MAX)
        return number / PERCENT_MAX
    return number
