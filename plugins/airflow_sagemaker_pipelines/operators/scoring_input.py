"""The partition's rows as the model takes them: the features in training order, each row with its id.

A batch transform sends each line to the model as it is, so the data files (CSV with a header, the
columns in any order, the label among them) are rewritten first: one headerless object per data
file, `<id>,<feature>,...`. The transform drops the id before the model (InputFilter) and joins it
back to the score (JoinSource), so every score names its row. A malformed file fails the task at
once, naming the file, the row and the column: it would fail the transform with no such detail.
"""

from __future__ import annotations

import codecs
import csv
import math
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import AirflowFailException

from ..hooks.provider_clients import S3Hook

if TYPE_CHECKING:
    from airflow.sdk import Context

    from ..payloads import ScoringInput


class MalformedData(ValueError):
    """A data file the model cannot be given; the message names the file, the row and the column."""


def model_rows(lines: Iterator[str], source: str, features: Sequence[str], id_column: str | None
               ) -> Iterator[list[str]]:
    """`<id>, <features in order>` for each data row of a CSV file (its first line the header)."""
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        raise MalformedData(f"{source}: empty, expected a header row and data")
    header = [column.strip() for column in header]
    wanted = [*features, *([id_column] if id_column else [])]
    missing = [column for column in wanted if column not in header]
    if missing:
        raise MalformedData(f"{source}: missing column(s) {', '.join(missing)}; the model takes "
                            f"{', '.join(features)}")
    positions = [header.index(column) for column in features]
    id_position = header.index(id_column) if id_column else None
    for line, row in enumerate(reader, start=2):
        if not row:
            continue
        if len(row) != len(header):
            raise MalformedData(f"{source} row {line}: {len(row)} field(s), the header has {len(header)}")
        values = []
        for column, position in zip(features, positions, strict=True):
            value = row[position].strip()
            if value:  # an empty field is a missing value, which the model takes
                try:
                    number = float(value)
                except ValueError:
                    number = math.nan
                if not math.isfinite(number):
                    raise MalformedData(f"{source} row {line}: column {column} is {value!r}, not a number")
            values.append(value)
        yield [row[id_position] if id_position is not None else f"{source.rsplit('/', 1)[-1]}:{line}", *values]


class PrepareScoringInputOperator(AwsBaseOperator[S3Hook]):
    """Rewrite the partition's CSV files as the model's input; returns a ScoringInput (multiple outputs).

    Files are streamed (memory does not grow with the partition). What the input folder held
    before and this run does not write (a file since removed from the partition) is deleted, so
    the transform scores exactly the partition. A re-run writes the same objects again.

    :param partition_uri: the partition's s3:// prefix (templated).
    :param input_uri: where the model's input goes, an s3:// prefix (templated).
    :param features: the model's columns, in training order.
    :param id_column: a column written beside each score; else the row's file and line.
    """

    aws_hook_class = S3Hook
    template_fields: Sequence[str] = aws_template_fields("partition_uri", "input_uri")

    def __init__(self, *, partition_uri: str, input_uri: str, features: Sequence[str], id_column: str | None = None,
                 **kwargs: Any) -> None:
        kwargs.setdefault("multiple_outputs", True)
        super().__init__(**kwargs)
        self.partition_uri = partition_uri
        self.input_uri = input_uri
        self.features = list(features)
        self.id_column = id_column

    def execute(self, context: Context) -> ScoringInput:
        source_bucket, source_prefix = self.hook.parse_s3_url(self.partition_uri)
        target_bucket, target_prefix = self.hook.parse_s3_url(self.input_uri)
        keys = sorted(key for key in self.hook.list_keys(source_bucket, source_prefix) if key.endswith(".csv"))
        if not keys:
            raise AirflowFailException(f"No CSV file under {self.partition_uri}: nothing to score")
        written, rows = [], 0
        with tempfile.TemporaryDirectory() as folder:
            for key in keys:
                target = target_prefix + key[len(source_prefix):].lstrip("/")
                count = self._rewrite(source_bucket, key, Path(folder) / "rows.csv")
                self.hook.load_file(Path(folder) / "rows.csv", target, target_bucket, replace=True)
                written.append(target)
                rows += count
                self.log.info("s3://%s/%s: %d row(s) -> s3://%s/%s", source_bucket, key, count, target_bucket, target)
        stale = sorted(set(self.hook.list_keys(target_bucket, target_prefix)) - set(written))
        if stale:
            self.hook.delete_objects(target_bucket, stale)
            self.log.info("Removed %d input object(s) of an earlier run whose file is gone: %s", len(stale), stale)
        if not rows:
            raise AirflowFailException(f"The CSV files under {self.partition_uri} have no rows: nothing to score")
        return {"input_uri": self.input_uri, "files": len(written), "rows": rows}

    def _rewrite(self, bucket: str, key: str, destination: Path) -> int:
        body = self.hook.get_key(key, bucket).get()["Body"]
        count = 0
        try:
            with destination.open("w", newline="") as out:
                writer = csv.writer(out, lineterminator="\n")
                lines = codecs.getreader("utf-8-sig")(body)
                for row in model_rows(lines, f"s3://{bucket}/{key}", self.features, self.id_column):
                    writer.writerow(row)
                    count += 1
        except UnicodeDecodeError as error:
            raise AirflowFailException(f"s3://{bucket}/{key}: not UTF-8 text ({error.reason} at byte {error.start})"
                                       ) from None
        except MalformedData as error:
            raise AirflowFailException(f"{error}; nothing was scored") from None
        finally:
            body.close()
        return count
