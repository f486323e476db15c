"""A request that changes state answers only once the change is saved (WSGI middleware).

Which services a request may change is read from the request itself: the service from its
SigV4 credential scope (header or presigned query), the action from X-Amz-Target, the query
string or the form body; S3 from the HTTP method. Reads (Describe*, List*, Get*, ... and S3
GET/HEAD) pass straight through, and so does InvokeEndpoint (sagemaker-runtime, told by its
path: it changes nothing). So does SQS ReceiveMessage, which can wait 20 s for a message:
holding snapshots back that long would stall every client; what it changes (a message's
visibility) is rightly forgotten by a restart. A change also marks the services it
reaches: an SNS publish delivers to SQS, an S3 event notifies SNS and SQS. A request whose
service cannot be told marks every saved service. An S3 change other than writing, copying or
deleting objects (an object's ACL, retention, restore...) may change a stored object in place:
the next snapshot pickles every object afresh (s3_objects.py).
"""

from __future__ import annotations

import contextlib
import io
import re
import tempfile
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs, unquote

from .store import PERSISTED_SERVICES, StateStore

READ_ACTION_PREFIXES = ("Describe", "List", "Get", "Head", "Search", "Query", "Scan", "Filter", "Simulate",
                        "BatchGet", "Receive", "Invoke")
READ_METHODS = ("GET", "HEAD", "OPTIONS")
REACHES = {"s3": ("sns", "sqs"), "sns": ("sqs",)}
# Saved, but made without the lock: they change only the engine's records (which have locks of their
# own) and answer once the job's processes have ended, which can take seconds no snapshot should wait.
# DeleteEndpoint too: its model servers' last log lines reach CloudWatch through this very endpoint, a
# request that would wait behind a snapshot waiting for the delete (its one dict change a snapshot retries).
STOP_ACTIONS = frozenset({"StopPipelineExecution", "StopProcessingJob", "StopTrainingJob", "StopTransformJob",
                          "DeleteEndpoint"})
# A change's body is received before the lock is taken: a slow upload must not hold snapshots back.
_IN_MEMORY_BODY_BYTES = 8 * 1024 * 1024
_CHUNK = 1024 * 1024
# S3 query parameters of the requests that make or remove objects, never change one in place.
OBJECT_WRITE_PARAMETERS = frozenset({"x-id", "uploads", "uploadId", "partNumber", "delete", "versionId"})
_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/([^/]+)/aws4_request")
# sagemaker-runtime's InvokeEndpoint (signed as "sagemaker", REST, no action name): a read, never worth a snapshot.
_INVOCATION_PATH = re.compile(r"^/endpoints/[^/]+/(invocations|async-invocations|invocations-response-stream)$")


def changed_services(environ: dict[str, Any]) -> frozenset[str]:
    """The services this request may change; empty for a read."""
    method = environ.get("REQUEST_METHOD", "GET").upper()
    path = environ.get("PATH_INFO", "")
    if path.startswith("/moto-api"):
        return frozenset() if method in READ_METHODS else frozenset(PERSISTED_SERVICES)
    service = _service(environ)
    if service == "s3":
        reads = method in READ_METHODS
    elif service == "sagemaker" and _INVOCATION_PATH.match(path):
        reads = True
    elif service is None:
        reads = False
    else:
        action = _action(environ)
        reads = bool(action) and action.startswith(READ_ACTION_PREFIXES)
    if reads:
        return frozenset()
    if service is None:
        return frozenset(PERSISTED_SERVICES)
    return frozenset((service, *REACHES.get(service, ())))


def changes_objects_in_place(environ: dict[str, Any]) -> bool:
    """An S3 change that may alter a stored object rather than make a new one (see the module doc)."""
    if environ.get("REQUEST_METHOD", "GET").upper() in READ_METHODS or _service(environ) != "s3":
        return False
    parameters = {name for name in parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
                  if not name.lower().startswith("x-amz-")}  # presigned URLs' signature
    return not parameters <= OBJECT_WRITE_PARAMETERS


def _service(environ: dict[str, Any]) -> str | None:
    scope = environ.get("HTTP_AUTHORIZATION", "") or unquote(environ.get("QUERY_STRING", ""))
    match = _SCOPE.search(scope.replace("X-Amz-Credential=", "Credential="))
    return match.group(1).lower() if match else None


def _action(environ: dict[str, Any]) -> str:
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return target.rsplit(".", 1)[-1]
    named = parse_qs(environ.get("QUERY_STRING", "")).get("Action")
    if named:
        return named[0]
    if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)  # moto reads it again
        named = parse_qs(body.decode("utf-8", errors="replace")).get("Action")
        if named:
            return named[0]
    return ""


class PersistingApp:
    """Wraps the endpoint's WSGI app: a change is made under the shared StateLock, then saved, then answered."""

    def __init__(self, app: Callable[..., Iterable[bytes]], store: StateStore) -> None:
        self.app = app
        self.store = store

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        services = changed_services(environ)
        if not services:
            return self.app(environ, start_response)
        _receive_body(environ)
        held = contextlib.nullcontext() if _action(environ) in STOP_ACTIONS else self.store.lock.shared()
        try:
            with held:
                if changes_objects_in_place(environ):
                    self.store.forget_pickled_objects()
                # The response is only sent once iterated, after the wait below.
                return self.app(environ, start_response)
        finally:
            self.store.wait_saved(self.store.changed(services))


def _receive_body(environ: dict[str, Any]) -> None:
    """Receive the whole body now, while no lock is held (in memory, or a temporary file past 8 MiB)."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    chunked = environ.get("wsgi.input_terminated", False)  # werkzeug decoded a chunked body: read to its end
    if not length and not chunked:
        return
    received = tempfile.SpooledTemporaryFile(max_size=_IN_MEMORY_BODY_BYTES)  # noqa: SIM115 (moto reads it later)
    remaining = length if length else None
    while remaining is None or remaining > 0:  # exactly the body: the connection stays open after it
        chunk = environ["wsgi.input"].read(_CHUNK if remaining is None else min(remaining, _CHUNK))
        if not chunk:
            break
        received.write(chunk)
        if remaining is not None:
            remaining -= len(chunk)
    received.seek(0)
    environ["wsgi.input"] = received
