"""What the deployed endpoint was sent, as the data-quality analyzer reads it: rows under the model's column names.

SageMaker writes each captured invocation as one JSON line under
`<capture prefix>/<endpoint>/<variant>/yyyy/mm/dd/hh/`: `captureData.endpointInput` holds the request
body (`data`, text or base64 as `encoding` says) and its `observedContentType`. A CSV request body
is one or more rows of the model's features, without a header. The baseline of the model's data
also describes its label, which no request carries: the check uses the baseline restricted to the
features. No I/O here: the operators read and write through the S3 hook.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

VARIANT = "AllTraffic"  # the deploy DAG's only production variant


class CapturedDataError(ValueError):
    """A capture file or record that is not what SageMaker writes, or rows that are not the model's features."""


def capture_day_prefix(capture_prefix: str, endpoint: str, day: date) -> str:
    """The key prefix of one day's captured invocations (every hour of it)."""
    return f"{capture_prefix}/{endpoint}/{VARIANT}/{day:%Y/%m/%d}/"


def captured_rows(text: str, source: str, width: int) -> list[list[str]]:
    """The CSV rows of every request in a capture file's JSON lines; each row must have `width` fields."""
    rows: list[list[str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{source}, line {number}"
        try:
            record = json.loads(line)
            request = record["captureData"]["endpointInput"]
            body, encoding = request["data"], str(request.get("encoding", "CSV")).upper()
        except (ValueError, KeyError, TypeError):
            raise CapturedDataError(f"{where}: not a captured invocation (captureData.endpointInput.data)") from None
        content_type = str(request.get("observedContentType", "text/csv")).split(";")[0].strip()
        if content_type != "text/csv":
            raise CapturedDataError(f"{where}: the request is {content_type}; the check reads text/csv requests")
        if encoding == "BASE64":
            body = base64.b64decode(body).decode("utf-8")
        for row in csv.reader(io.StringIO(body)):
            if not row or all(not field.strip() for field in row):
                continue
            if len(row) != width:
                raise CapturedDataError(f"{where}: a request row has {len(row)} fields; the model takes {width}")
            rows.append(row)
    return rows


def rows_as_csv(features: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """The rows as one CSV with the features as its header, as the analyzer reads a dataset."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(features)
    writer.writerows(rows)
    return buffer.getvalue()


def restricted_baseline(statistics: dict[str, Any], constraints: dict[str, Any],
                        features: Sequence[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The baseline's statistics and constraints of `features` only; a feature the baseline lacks is an error."""
    wanted = set(features)
    for name, document in (("statistics", statistics), ("constraints", constraints)):
        have = {feature.get("name") for feature in document.get("features") or [] if isinstance(feature, dict)}
        missing = [feature for feature in features if feature not in have]
        if missing:
            raise CapturedDataError(f"the baseline's {name} have no feature {', '.join(missing)}: the model's "
                                    f"input columns are {', '.join(features)}")

    def only_features(document: dict[str, Any]) -> dict[str, Any]:
        return {**document, "features": [feature for feature in document["features"]
                                         if isinstance(feature, dict) and feature.get("name") in wanted]}

    return only_features(statistics), only_features(constraints)
