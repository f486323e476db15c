"""Faults a day's data can be given on demand, one per kind of data-quality violation.

- `drift:<column>=<shift>`: the column's values move by `shift` standard deviations (a feature
  drift: the analyzer's baseline_drift_check);
- `missing:<column>`: the column is gone (a schema break: missing_column_check);
- `type:<column>`: a fifth of the column's values become text (a schema break: data_type_check).

The label drift is the partition generator's own (`--drift-per-day`). A fault names a column of
the day's data, or it is refused with the columns it may name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_FAULT = re.compile(r"^(?:(?P<kind>drift):(?P<column>[^=]+)=(?P<shift>-?\d+(?:\.\d+)?)|(?P<break>missing|type):(?P<broken>.+))$")
ALLOWED = "drift:<column>=<standard deviations>, missing:<column> or type:<column>"
TEXT_SHARE = 0.2  # of a type-broken column's values


@dataclass(frozen=True)
class DataFault:
    kind: str  # drift, missing or type
    column: str
    shift: float = 0.0  # standard deviations, for a drift

    @classmethod
    def parse(cls, text: str) -> DataFault:
        match = _FAULT.match(text.strip())
        if match is None:
            raise ValueError(f"fault {text!r}: expected {ALLOWED}")
        if match["kind"]:
            return cls("drift", match["column"].strip(), float(match["shift"]))
        return cls(match["break"], match["broken"].strip())

    def apply(self, frame: Any, seed: int) -> Any:
        """The day's data with this fault; the frame given is left as it was."""
        import numpy as np

        if self.column not in frame.columns:
            raise ValueError(f"fault {self}: no column {self.column!r}; the data's columns are "
                             f"{', '.join(map(str, frame.columns))}")
        faulty = frame.copy()
        if self.kind == "missing":
            return faulty.drop(columns=[self.column])
        if self.kind == "drift":
            values = faulty[self.column].astype(float)
            spread = float(values.std()) or 1.0
            faulty[self.column] = values + self.shift * spread
            return faulty
        rng = np.random.default_rng(seed)
        broken = rng.random(len(faulty)) < TEXT_SHARE
        faulty[self.column] = faulty[self.column].astype(object)
        faulty.loc[broken, self.column] = "unknown"
        return faulty

    def __str__(self) -> str:
        return f"drift:{self.column}={self.shift:g}" if self.kind == "drift" else f"{self.kind}:{self.column}"
