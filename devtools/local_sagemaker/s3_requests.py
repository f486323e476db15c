"""The S3 request being served, as its event notifications name it, and which events it may send.

AWS's event records carry the request that caused them: the requester's principal, the client's
address, and the `x-amz-request-id`/`x-amz-id-2` the client got back (s3.py answers with them, as S3
does; moto answers a 52-character `x-amzn-requestid` instead). The S3 responses set them per request
(`serving`); a change made without a request (in process) gets ids of its own.

A request sends the events of its own operation only (`announcing_only`): moto makes some objects
in several steps that each send an event (see s3.py).
"""

from __future__ import annotations

import base64
import contextlib
import re
import secrets
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from moto.utilities.utils import get_partition

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/")
DEFAULT_SOURCE_IP = "127.0.0.1"  # the endpoint serves loopback


def _request_id() -> str:
    return secrets.token_hex(8).upper()  # S3's request ids: 16 hex digits


def _host_id() -> str:
    return base64.b64encode(secrets.token_bytes(48)).decode()


@dataclass(frozen=True)
class S3Request:
    source_ip: str = DEFAULT_SOURCE_IP
    access_key: str = ""
    region: str = ""
    request_id: str = field(default_factory=_request_id)
    host_id: str = field(default_factory=_host_id)

    def principal_id(self, account_id: str) -> str:
        """`AWS:<unique id>` of the requester, as moto's STS tells it (GetCallerIdentity's UserId)."""
        from moto.sts.models import sts_backends

        user_id, _, _ = sts_backends[account_id][get_partition(self.region)].get_caller_identity(
            self.access_key, self.region)
        return f"AWS:{user_id}"


_SERVING: ContextVar[S3Request | None] = ContextVar("s3_request", default=None)
_ANNOUNCED: ContextVar[str | None] = ContextVar("s3_announced_event", default=None)


@contextlib.contextmanager
def serving(request: Any) -> Iterator[S3Request]:
    """The werkzeug request's S3Request while it is served (signed in the header or presigned)."""
    credential = _CREDENTIAL.search(request.headers.get("Authorization", "") or
                                    f"Credential={request.args.get('X-Amz-Credential', '')}")
    access_key, region = credential.groups() if credential else ("", "")
    current = S3Request(request.remote_addr or DEFAULT_SOURCE_IP, access_key, region)
    token = _SERVING.set(current)
    try:
        yield current
    finally:
        _SERVING.reset(token)


def current() -> S3Request:
    return _SERVING.get() or S3Request()


@contextlib.contextmanager
def announcing_only(event_name: str) -> Iterator[None]:
    """Within: only `event_name` (moto's "s3:ObjectCreated:Put" form) is sent."""
    token = _ANNOUNCED.set(event_name)
    try:
        yield
    finally:
        _ANNOUNCED.reset(token)


def announces(event_name: str) -> bool:
    only = _ANNOUNCED.get()
    return only is None or only == event_name
