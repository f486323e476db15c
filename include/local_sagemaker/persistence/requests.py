"""A request that changes state answers only once the change is saved (WSGI middleware).

Which services a request may change is read from the request itself: the service from its
SigV4 credential scope (header or presigned query), the action from X-Amz-Target, the query
string or the form body; S3 from the HTTP method. Reads (Describe*, List*, Get*, ... and S3
GET/HEAD) pass straight through. So does SQS ReceiveMessage, which can wait 20 s for a
message: holding snapshots back that long would stall every client; what it changes (a
message's visibility) is rightly forgotten by a restart. A change also marks the services it
reaches: an SNS publish delivers to SQS, an S3 event notifies SNS and SQS. A request whose
service cannot be told marks every saved service. An S3 change other than writing, copying or
deleting objects (an object's ACL, retention, restore...) may change a stored object in place:
the next snapshot pickles every object afresh (s3_objects.py).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs, unquote

from .store import PERSISTED_SERVICES, StateStore

READ_ACTION_PREFIXES = ("Describe", "List", "Get", "Head", "Search", "Query", "Scan", "Filter", "Simulate",
                        "BatchGet", "Receive", "Invoke")
READ_METHODS = ("GET", "HEAD", "OPTIONS")
REACHES = {"s3": ("sns", "sqs"), "sns": ("sqs",)}
# S3 query parameters of the requests that make or remove objects, never change one in place.
OBJECT_WRITE_PARAMETERS = frozenset({"x-id", "uploads", "uploadId", "partNumber", "delete", "versionId"})
_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/([^/]+)/aws4_request")


def changed_services(environ: dict[str, Any]) -> frozenset[str]:
    """The services this request may change; empty for a read."""
    method = environ.get("REQUEST_METHOD", "GET").upper()
    path = environ.get("PATH_INFO", "")
    if path.startswith("/moto-api"):
        return frozenset() if method in READ_METHODS else frozenset(PERSISTED_SERVICES)
    service = _service(environ)
    if service == "s3":
        reads = method in READ_METHODS
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
        try:
            with self.store.lock.shared():
                if changes_objects_in_place(environ):
                    self.store.forget_pickled_objects()
                # The response is only sent once iterated, after the wait below.
                return self.app(environ, start_response)
        finally:
            self.store.wait_saved(self.store.changed(services))
