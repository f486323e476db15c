"""The dataset the analyzer profiles: every file under dataset_source, as named columns of text values.

The analyzer reads it with Spark, so this reads it the way Spark's readers do: every file of the
folder but hidden ones (`.` or `_` first), CSV with the header line of each file as column names
(or `_c0`, `_c1`, ... without a header), empty fields and blank lines skipped as null and nothing,
short rows padded with nulls; JSON Lines (or, with `lines: false`, a document holding an array of
objects) with the union of the objects' keys, in name order as Spark's schema inference sorts them.
Values stay text, as Deequ's type detection reads them; JSON numbers and booleans become the text
Spark would cast them to.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analyzer_settings import DatasetFormat
from container_run import ClientError


@dataclass
class Dataset:
    columns: dict[str, list[str | None]]  # name -> one value per row, None when missing
    item_count: int


def read_dataset(source: Path, dataset_format: DatasetFormat) -> Dataset:
    files = _data_files(source)
    if not files:
        raise ClientError(f"dataset_source {source} holds no data file")
    rows: list[dict[str, str | None]] = []
    names: list[str] = []
    for path in files:
        text = path.read_text(encoding="utf-8-sig")
        file_names, file_rows = _csv(text, dataset_format.header) if dataset_format.kind == "csv" \
            else _json(text, dataset_format.lines, path)
        names.extend(name for name in file_names if name not in names)
        rows.extend(file_rows)
    if dataset_format.kind == "json":
        names.sort()
    if not rows:
        raise ClientError(f"dataset_source {source} holds no records ({len(files)} file(s))")
    return Dataset({name: [row.get(name) for row in rows] for name in names}, len(rows))


def _data_files(source: Path) -> list[Path]:
    if source.is_file():
        return [source]
    if not source.is_dir():
        raise ClientError(f"dataset_source {source} does not exist in the container: it must be the LocalPath "
                          "of the job's dataset ProcessingInput")
    return sorted(path for path in source.rglob("*")
                  if path.is_file() and not any(part.startswith((".", "_")) for part in path.relative_to(source).parts))


def _csv(text: str, header: bool) -> tuple[list[str], list[dict[str, str | None]]]:
    records = [record for record in csv.reader(io.StringIO(text)) if record and any(field != "" for field in record)]
    if not records:
        return [], []
    if header:
        names = [name.strip() or f"_c{index}" for index, name in enumerate(records[0])]
        records = records[1:]
    else:
        names = [f"_c{index}" for index in range(max(len(record) for record in records))]
    rows = [{name: (record[index] if index < len(record) and record[index] != "" else None)
             for index, name in enumerate(names)} for record in records]
    return names, rows


def _json(text: str, lines: bool, path: Path) -> tuple[list[str], list[dict[str, str | None]]]:
    try:
        documents: list[Any] = [json.loads(line) for line in text.splitlines() if line.strip()] if lines \
            else _as_list(json.loads(text))
    except ValueError as error:
        raise ClientError(f"{path.name} is not valid JSON{' Lines' if lines else ''}: {error}") from None
    names: list[str] = []
    rows = []
    for number, document in enumerate(documents, start=1):
        if not isinstance(document, dict):
            raise ClientError(f"{path.name}, record {number}: a record must be a JSON object, got {str(document)[:100]}")
        names.extend(key for key in document if key not in names)
        rows.append({key: _text(value) for key, value in document.items()})
    return names, rows


def _as_list(document: Any) -> list[Any]:
    return document if isinstance(document, list) else [document]


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value) if not isinstance(value, float) else repr(value)
    return json.dumps(value, separators=(",", ":"))
