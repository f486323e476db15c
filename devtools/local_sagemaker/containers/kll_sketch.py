"""The KLL quantile sketch of a numeric feature, as the analyzer keeps it in statistics.json.

AWS builds its data-quality statistics with Deequ ("Data quality" in the Model Monitor guide), and
statistics.json carries Deequ's KLL sketch: `distribution.kll.sketch` is `{"parameters": {"c":
shrinking factor, "k": sketch size}, "data": [one list of items per compactor level]}` and
`distribution.kll.buckets` ten equal-width buckets between the feature's min and max ("By default,
the distribution is materialized in 10 buckets", Schema for Statistics). This is a port of Deequ's
QuantileNonSample and NonSampleCompactor (awslabs/deequ, analyzers/QuantileNonSample.scala,
NonSampleCompactor.scala) and of KLLSketch.computeMetricFrom's buckets: deterministic, so the same
rows give the same sketch; an item at level h stands for 2^h rows. Below 2,050 rows (the first
level's capacity) the sketch holds every value, in row order.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from typing import Any

SKETCH_SIZE = 2048  # Deequ's KLLSketch.DEFAULT_SKETCH_SIZE
SHRINKING_FACTOR = 0.64  # KLLSketch.DEFAULT_SHRINKING_FACTOR
BUCKETS = 10


@dataclass
class _Compactor:
    buffer: list[float] = field(default_factory=list)
    compressions: int = 0
    offset: int = 0

    def compact(self) -> list[float]:
        """Half of the (sorted) items go one level up; an odd last item stays."""
        items = len(self.buffer)
        even = items - items % 2
        if self.compressions % 2 == 1:
            self.offset = 1 - self.offset
        ordered = sorted(self.buffer[:even])
        output = ordered[self.offset:even:2]
        self.buffer = [self.buffer[items - 1]] if items % 2 else []
        self.compressions += 1
        return output


class KllSketch:
    def __init__(self, sketch_size: int = SKETCH_SIZE, shrinking_factor: float = SHRINKING_FACTOR) -> None:
        self.sketch_size = sketch_size
        self.shrinking_factor = shrinking_factor
        self.compactors: list[_Compactor] = []
        self._items = 0
        self._capacity = 0
        self._expand()

    @classmethod
    def from_statistics(cls, sketch: dict[str, Any]) -> KllSketch:
        """The sketch a statistics.json feature carries (`distribution.kll.sketch`)."""
        parameters = sketch.get("parameters") or {}
        restored = cls(int(parameters.get("k", SKETCH_SIZE)), float(parameters.get("c", SHRINKING_FACTOR)))
        restored.compactors = [_Compactor([float(item) for item in level]) for level in sketch.get("data") or [[]]]
        restored._items = sum(len(level.buffer) for level in restored.compactors)
        restored._capacity = sum(restored._level_capacity(height) for height in range(len(restored.compactors)))
        return restored

    def update(self, item: float) -> None:
        self.compactors[0].buffer.append(item)
        self._items += 1
        if self._items > self._capacity:
            self._condense()

    def to_statistics(self) -> dict[str, Any]:
        return {"parameters": {"c": self.shrinking_factor, "k": float(self.sketch_size)},
                "data": [list(level.buffer) for level in self.compactors]}

    def weighted_items(self) -> list[tuple[float, int]]:
        """(item, number of rows it stands for), sorted by item."""
        return sorted(((item, 1 << height) for height, level in enumerate(self.compactors) for item in level.buffer),
                      key=lambda pair: pair[0])

    def buckets(self, low: float, high: float, count: int = BUCKETS) -> list[dict[str, float]]:
        """Deequ's equal-width buckets: each counts [lower, upper), the last [lower, upper]."""
        items = self.weighted_items()
        keys = [item for item, _ in items]
        cumulative = [0]
        for _, weight in items:
            cumulative.append(cumulative[-1] + weight)

        def below(value: float) -> int:
            return cumulative[bisect.bisect_left(keys, value)]

        def up_to(value: float) -> int:
            return cumulative[bisect.bisect_right(keys, value)]

        result = []
        for index in range(count):
            lower = low + (high - low) * index / float(count)
            upper = low + (high - low) * (index + 1) / float(count)
            rows = (up_to(upper) if index == count - 1 else below(upper)) - below(lower)
            result.append({"lower_bound": lower, "upper_bound": upper, "count": float(rows)})
        return result

    def _level_capacity(self, height: int) -> int:
        return 2 * (math.ceil(self.sketch_size * math.pow(self.shrinking_factor, height) / 2) + 1)

    def _expand(self) -> None:
        self.compactors.append(_Compactor())
        self._capacity = sum(self._level_capacity(height) for height in range(len(self.compactors)))

    def _condense(self) -> None:
        for height, level in enumerate(self.compactors):
            if len(level.buffer) >= self._level_capacity(height):
                if height + 1 >= len(self.compactors):
                    self._expand()
                self.compactors[height + 1].buffer.extend(level.compact())
                self._items = sum(len(each.buffer) for each in self.compactors)
                return
