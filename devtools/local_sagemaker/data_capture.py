"""Data capture of real-time invocations, written to S3 as SageMaker writes it for Model Monitor.

A sampled invocation (InitialSamplingPercentage of them; 100 = every one) becomes one JSON line:
  {"captureData": {"endpointInput": {"observedContentType", "mode": "INPUT", "data", "encoding"},
                   "endpointOutput": {... "mode": "OUTPUT" ...}},
   "eventMetadata": {"eventId": <uuid4>, "inferenceTime": "2024-01-02T03:04:05Z"}, "eventVersion": "0"}
`encoding` is CSV or JSON when the media type is one of CaptureContentTypeHeader's CsvContentTypes or
JsonContentTypes (data kept as text), BASE64 otherwise (AWS's default without the header). Objects go to
  {DestinationS3Uri}/{EndpointName}/{VariantName}/yyyy/mm/dd/hh/{MM-SS-mmm}-{uuid4}.jsonl
(UTC hour folder; the name's minute, second and millisecond are the write's), the layout of AWS's
"Capture data from real-time endpoint" guide and of its captured objects
(e.g. `AllTraffic/2020/03/11/12/32-18-648-cee08c3a-02ce-4790-b8ba-3173cfc12813.jsonl`).

AWS buffers for minutes; here a single background thread writes what is queued at once (one object per
endpoint, variant and hour of each batch), so a caller only waits on S3, never sleeps. Capture never
slows or breaks serving: the invocation only queues its line, a full queue drops it, and a write S3
refuses (a missing bucket...) is logged, never returned to the caller. Only successful invocations
are captured.
"""

from __future__ import annotations

import base64
import json
import logging
import queue
import random
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .engine.s3_transfer import split_s3_uri

logger = logging.getLogger(__name__)
QUEUE_LIMIT = 10_000  # captured lines waiting for S3; beyond it lines are dropped rather than memory grown
BATCH_LIMIT = 500  # lines taken per write round


@dataclass(frozen=True)
class CapturedLine:
    s3: Any  # the boto3 S3 client of the endpoint the invocation reached
    destination: str  # DestinationS3Uri
    endpoint_name: str
    variant: str
    moment: datetime
    line: str


def should_capture(config: dict[str, Any] | None) -> bool:
    """Whether this invocation is sampled: capture enabled and a draw under InitialSamplingPercentage."""
    if not config or config.get("EnableCapture", True) is False:
        return False
    percentage = int(config.get("InitialSamplingPercentage") or 0)
    return percentage >= 100 or random.uniform(0, 100) < percentage


def capture_record(config: dict[str, Any], request: bytes, request_type: str, response: bytes, response_type: str,
                   moment: datetime) -> str:
    """The JSON line of one invocation, with the sides CaptureOptions asks for."""
    modes = {option.get("CaptureMode") for option in config.get("CaptureOptions") or []}
    headers = config.get("CaptureContentTypeHeader") or {}
    data: dict[str, Any] = {}
    if modes & {"Input", "InputAndOutput"}:
        data["endpointInput"] = _side(request, request_type, "INPUT", headers)
    if modes & {"Output", "InputAndOutput"}:
        data["endpointOutput"] = _side(response, response_type, "OUTPUT", headers)
    record = {"captureData": data,
              "eventMetadata": {"eventId": str(uuid.uuid4()), "inferenceTime": moment.strftime("%Y-%m-%dT%H:%M:%SZ")},
              "eventVersion": "0"}
    return json.dumps(record, separators=(",", ":"))


def _side(payload: bytes, content_type: str, mode: str, headers: dict[str, Any]) -> dict[str, str]:
    media = content_type.split(";", 1)[0].strip().lower()  # "text/csv; charset=utf-8" is CSV as "text/csv" is
    encoding = ("CSV" if media in _lowered(headers.get("CsvContentTypes"))
                else "JSON" if media in _lowered(headers.get("JsonContentTypes")) else "BASE64")
    text = None
    if encoding != "BASE64":
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:  # not text after all: kept whole, as base64
            encoding = "BASE64"
    if text is None:
        text = base64.b64encode(payload).decode("ascii")
    return {"observedContentType": content_type, "mode": mode, "data": text, "encoding": encoding}


def _lowered(types: list[str] | None) -> set[str]:
    return {str(item).lower() for item in types or []}


def capture_key(destination: str, endpoint_name: str, variant: str, moment: datetime, written: datetime) -> tuple[str, str]:
    """(bucket, key) of a capture object: AWS's {prefix}/{endpoint}/{variant}/yyyy/mm/dd/hh/MM-SS-mmm-uuid.jsonl."""
    bucket, prefix = split_s3_uri(destination)
    folder = f"{endpoint_name}/{variant}/{moment:%Y/%m/%d/%H}"
    name = f"{written:%M-%S}-{written.microsecond // 1000:03d}-{uuid.uuid4()}.jsonl"
    key = "/".join(part for part in (prefix.strip("/"), folder, name) if part)
    return bucket, key


class CaptureWriter:
    """One background thread putting queued lines to S3; started on the first capture."""

    def __init__(self) -> None:
        self._queue: queue.Queue[CapturedLine] = queue.Queue(maxsize=QUEUE_LIMIT)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def submit(self, line: CapturedLine) -> None:
        self._start()
        try:
            self._queue.put_nowait(line)
        except queue.Full:  # S3 is far behind: serving comes first
            logger.warning("Data capture of endpoint %s dropped a record: %d records wait for S3",
                           line.endpoint_name, QUEUE_LIMIT)

    def _start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, daemon=True, name="data-capture-writer")
                self._thread.start()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < BATCH_LIMIT:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._write(batch)

    def _write(self, batch: list[CapturedLine]) -> None:
        groups: dict[tuple[int, str, str, str, str], list[CapturedLine]] = {}
        for line in batch:  # one object per client, destination, endpoint, variant and hour folder
            group = (id(line.s3), line.destination, line.endpoint_name, line.variant, f"{line.moment:%Y%m%d%H}")
            groups.setdefault(group, []).append(line)
        for lines in groups.values():
            first = lines[0]
            try:
                bucket, key = capture_key(first.destination, first.endpoint_name, first.variant, first.moment,
                                          datetime.now(UTC))
                body = "".join(line.line + "\n" for line in lines).encode()
                first.s3.put_object(Bucket=bucket, Key=key, Body=body)
            except Exception as error:  # logged only: capture must never reach the caller
                logger.warning("Data capture of endpoint %s variant %s could not write %d record(s) to %s: %s",
                               first.endpoint_name, first.variant, len(lines), first.destination, error)


WRITER = CaptureWriter()  # one per process: invocations of every endpoint share the thread


def capture_invocation(config: dict[str, Any] | None, s3: Any, endpoint_name: str, variant: str, request: bytes,
                       request_type: str, response: bytes, response_type: str) -> None:
    """Queue the capture of one successful invocation when it is sampled; never raises."""
    try:
        if not should_capture(config):
            return
        assert config is not None
        moment = datetime.now(UTC)
        line = capture_record(config, request, request_type, response, response_type, moment)
        WRITER.submit(CapturedLine(s3, config["DestinationS3Uri"], endpoint_name, variant, moment, line))
    except Exception:  # a capture bug must not fail the invocation it records
        logger.exception("Data capture of endpoint %s failed", endpoint_name)
