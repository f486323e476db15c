"""A tuning job's search space: its ParameterRanges as parameters that sample, encode and format values.

Values are drawn and encoded on a unit scale that follows each range's ScalingType, as AWS
describes it: Linear, Logarithmic (log of the value) and ReverseLogarithmic (log of 1 - value);
Auto is Linear here (AWS may pick a log scale for Auto; the emulator does not guess). Integers
are rounded on their scale; a categorical parameter is one-hot for the Bayesian model.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Parameter:
    name: str
    kind: str  # "Integer", "Continuous" or "Categorical"
    low: float = 0.0
    high: float = 0.0
    scaling: str = "Auto"
    values: tuple[str, ...] = ()

    @property
    def width(self) -> int:
        """How many numbers this parameter takes in the encoded vector."""
        return len(self.values) if self.kind == "Categorical" else 1

    def sample(self, rng: random.Random) -> Any:
        if self.kind == "Categorical":
            return rng.choice(self.values)
        return self.decode([rng.random()])

    def _to_unit(self, value: float) -> float:
        if self.high == self.low:
            return 0.0
        if self.scaling == "Logarithmic":
            return (math.log(value) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        if self.scaling == "ReverseLogarithmic":
            return 1.0 - (math.log(1 - value) - math.log(1 - self.high)) / (math.log(1 - self.low) - math.log(1 - self.high))
        return (value - self.low) / (self.high - self.low)

    def _from_unit(self, unit: float) -> float:
        unit = min(1.0, max(0.0, unit))
        if self.scaling == "Logarithmic":
            return math.exp(math.log(self.low) + unit * (math.log(self.high) - math.log(self.low)))
        if self.scaling == "ReverseLogarithmic":
            return 1 - math.exp(math.log(1 - self.high) + (1 - unit) * (math.log(1 - self.low) - math.log(1 - self.high)))
        return self.low + unit * (self.high - self.low)

    def encode(self, value: Any) -> list[float]:
        if self.kind == "Categorical":
            return [1.0 if value == choice else 0.0 for choice in self.values]
        return [self._to_unit(float(value))]

    def decode(self, numbers: list[float]) -> Any:
        if self.kind == "Categorical":
            return self.values[max(range(len(self.values)), key=lambda index: numbers[index])]
        value = self._from_unit(numbers[0])
        if self.kind == "Integer":
            return int(min(self.high, max(self.low, round(value))))
        return min(self.high, max(self.low, value))

    def format(self, value: Any) -> str:
        """The string a training job gets, as AWS writes tuned values."""
        if self.kind == "Integer":
            return str(int(value))
        if self.kind == "Continuous":
            return repr(float(value))
        return str(value)

    def combinations(self) -> int | None:
        """How many values it can take (None: infinitely many)."""
        if self.kind == "Categorical":
            return len(self.values)
        if self.kind == "Integer":
            return int(self.high - self.low) + 1
        return None


def parameters(ranges: dict[str, Any]) -> list[Parameter]:
    """The (already validated) ParameterRanges as parameters, in the request's order."""
    found: list[Parameter] = []
    for item in ranges.get("IntegerParameterRanges") or []:
        found.append(Parameter(item["Name"], "Integer", int(float(item["MinValue"])), int(float(item["MaxValue"])),
                               item.get("ScalingType") or "Auto"))
    for item in ranges.get("ContinuousParameterRanges") or []:
        found.append(Parameter(item["Name"], "Continuous", float(item["MinValue"]), float(item["MaxValue"]),
                               item.get("ScalingType") or "Auto"))
    for item in ranges.get("CategoricalParameterRanges") or []:
        found.append(Parameter(item["Name"], "Categorical", values=tuple(str(v) for v in item["Values"])))
    return found


def combinations(space: list[Parameter]) -> int | None:
    """How many distinct sets of values the space has (None when a parameter is continuous)."""
    total = 1
    for parameter in space:
        count = parameter.combinations()
        if count is None:
            return None
        total *= count
    return total
