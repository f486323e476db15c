"""Batch transform's DataProcessing: InputFilter, JoinSource and OutputFilter on each record.

As "Associate Prediction Results with Input Records" describes them: a JSONPath filter picks
what of a record goes to the model (CSV: `$`, `$[1:]`, `$[0,3:5]`, `$[-1]`; JSON: `$`,
`$.features`, `$['id','features']`); JoinSource Input appends the prediction to the original
record (CSV: the record's columns, then the prediction's; JSON: the object with a
`SageMakerOutput` member); OutputFilter picks what of the joined record is written. Runs in the
transform container stand-in (imported by name, beside it).
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from typing import Any

from container_run import ClientError

_INDEXES = re.compile(r"^\$\[(.+)\]$")
_KEYS = re.compile(r"^\$((?:\.[A-Za-z_][A-Za-z0-9_]*)+)$")
_QUOTED_KEYS = re.compile(r"^\$\[\s*'[^']*'(?:\s*,\s*'[^']*')*\s*\]$")


@dataclass(frozen=True)
class DataProcessing:
    input_filter: str = "$"
    join_source: str = "None"
    output_filter: str = "$"
    json_records: bool = False  # JSON Lines records, else CSV rows

    @property
    def active(self) -> bool:
        return (self.input_filter, self.join_source, self.output_filter) != ("$", "None", "$")

    def select_input(self, record: bytes, where: str) -> bytes:
        return self._write(select(self._read(record, where), self.input_filter, where, "InputFilter"))

    def finish(self, record: bytes, output: bytes, where: str) -> bytes:
        """Join the record's prediction with the record (JoinSource Input), then apply OutputFilter."""
        prediction = self._read(output, where)
        if self.join_source == "Input":
            original = self._read(record, where)
            if self.json_records:
                if not isinstance(original, dict):
                    raise ClientError(f"{where}: JoinSource Input needs JSON objects, got {record[:100]!r}")
                joined: Any = {**original, "SageMakerOutput": prediction}
            else:
                joined = [*original, *(prediction if isinstance(prediction, list) else [prediction])]
        else:
            joined = prediction
        return self._write(select(joined, self.output_filter, where, "OutputFilter"))

    def _read(self, record: bytes, where: str) -> Any:
        text = record.decode("utf-8").rstrip("\r\n")
        if self.json_records:
            try:
                return json.loads(text)
            except ValueError:
                raise ClientError(f"{where}: not a JSON record: {text[:200]!r}") from None
        return next(csv.reader([text]), [])

    def _write(self, value: Any) -> bytes:
        if self.json_records:
            return (json.dumps(value) + "\n").encode()
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(value if isinstance(value, list) else [value])
        return buffer.getvalue().encode()


def select(value: Any, path: str, where: str, field: str) -> Any:
    """The JSONPath subset batch transform supports, on a CSV row (a list) or a JSON value."""
    path = path.strip()
    if path == "$":
        return value
    keys = _KEYS.match(path)
    if keys and isinstance(value, dict):
        for key in keys.group(1).strip(".").split("."):
            if not isinstance(value, dict) or key not in value:
                raise ClientError(f"{where}: {field} {path!r} selects '{key}', which the record does not have")
            value = value[key]
        return value
    if _QUOTED_KEYS.match(path) and isinstance(value, dict):
        names = re.findall(r"'([^']*)'", path)
        return {name: value[name] for name in names if name in value}
    indexes = _INDEXES.match(path)
    if indexes and isinstance(value, list):
        picked: list[Any] = []
        for part in indexes.group(1).split(","):
            picked.extend(_pick(value, part.strip(), path, where, field))
        return picked
    raise ClientError(
        f"{where}: {field} {path!r} is not a JSONPath the local batch transform applies to this record; "
        "use $, $[i], $[i:j], $[i,j:k] on CSV rows or $.key, $['a','b'] on JSON objects"
    )


def _pick(row: list[Any], part: str, path: str, where: str, field: str) -> list[Any]:
    try:
        if ":" in part:
            start, _, stop = part.partition(":")
            return row[int(start) if start else None:int(stop) if stop else None]
        return [row[int(part)]]
    except (ValueError, IndexError):
        raise ClientError(f"{where}: {field} {path!r}: '{part}' selects nothing in a row of {len(row)} column(s)") from None
