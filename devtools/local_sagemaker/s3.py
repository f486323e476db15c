"""moto's S3, with bucket notifications as AWS sends them (records and test events: s3_events.py).

- A configuration naming a queue S3 may not send to (it does not exist, or its policy does not let
  S3 send from the bucket: queue_policies.py) is refused as AWS refuses it, and nothing is saved:
  `InvalidArgument` "Unable to validate the following destination configurations", with an
  `ArgumentName<n>` (the queue ARN) and `ArgumentValue<n>` (why) per refused queue. moto saved it.
- An upload sends one event, its operation's: moto completes a multipart upload by putting the
  object (`ObjectCreated:Put`) and tagging it (`ObjectTagging:Put`), and tags what PutObject (and a
  CopyObject with new tags) makes, each an event of its own; AWS sends only
  `ObjectCreated:CompleteMultipartUpload`, `ObjectCreated:Put` or `ObjectCreated:Copy`.
- Every answer carries `x-amz-request-id` and `x-amz-id-2` as S3's do (botocore's `RequestId` and
  `HostId`), the ids the request's events name.
"""

from __future__ import annotations

import importlib
from typing import Any
from xml.sax.saxutils import escape

from moto.core.common_types import TYPE_RESPONSE
from moto.core.mime_types import APP_XML
from moto.s3 import models as moto_s3
from moto.s3.models import FakeKey, S3Backend
from moto.s3.notifications import S3NotificationEvent
from moto.s3.responses import S3Response

from . import s3_requests
from .queue_policies import refusal
from .s3_events import install_notifier
from .s3_requests import S3Request, announcing_only

UNVALIDATED = "Unable to validate the following destination configurations"


class UnvalidatedDestinations(Exception):
    """Queues S3 could not send to: (ARN, why) each; answered by LocalS3Response in AWS's XML."""

    def __init__(self, refusals: list[tuple[str, str]]) -> None:
        super().__init__(UNVALIDATED)
        self.refusals = refusals


class LocalS3Backend(S3Backend):
    @property
    def _url_module(self) -> Any:
        return importlib.import_module(f"{__package__}.s3_urls")

    def put_bucket_notification_configuration(self, bucket_name: str, notification_config: dict[str, Any]) -> None:
        """Each queue of the bucket's region is checked before anything is saved (moto refuses other regions)."""
        bucket = self.get_bucket(bucket_name)
        queues = notification_config.get("QueueConfiguration") or []
        arns = dict.fromkeys(str(queue.get("Queue", "")) for queue in queues)
        refusals = [(arn, reason) for arn in arns if arn.split(":")[3:4] == [bucket.region_name]
                    and (reason := refusal(arn, bucket.name, bucket.account_id))]
        if refusals:
            raise UnvalidatedDestinations(refusals)
        super().put_bucket_notification_configuration(bucket_name, notification_config)

    def complete_multipart_upload(self, bucket_name: str, multipart_id: str, body: Any) -> FakeKey | None:
        with announcing_only(S3NotificationEvent.OBJECT_CREATED_COMPLETE_MULTIPART_UPLOAD_EVENT):
            return super().complete_multipart_upload(bucket_name, multipart_id, body)


class LocalS3Response(S3Response):
    def bucket_response(self, request: Any, full_url: str, headers: Any) -> TYPE_RESPONSE:
        with s3_requests.serving(request) as current:
            try:
                answer = super().bucket_response(request, full_url, headers)
            except UnvalidatedDestinations as refused:
                answer = _refused(refused, current)
        return _with_request_ids(answer, current)

    def key_response(self, request: Any, full_url: str, headers: Any) -> TYPE_RESPONSE:
        with s3_requests.serving(request) as current:
            answer = super().key_response(request, full_url, headers)
        return _with_request_ids(answer, current)

    def put_object(self) -> TYPE_RESPONSE:
        with announcing_only(S3NotificationEvent.OBJECT_CREATED_PUT_EVENT):
            return super().put_object()

    def copy_object(self) -> TYPE_RESPONSE:
        with announcing_only(S3NotificationEvent.OBJECT_CREATED_COPY_EVENT):
            return super().copy_object()


def _with_request_ids(answer: TYPE_RESPONSE, current: S3Request) -> TYPE_RESPONSE:
    status, headers, body = answer
    headers = {name: value for name, value in headers.items() if name.lower() != "x-amzn-requestid"}
    headers.update({"x-amz-request-id": current.request_id, "x-amz-id-2": current.host_id})
    return status, headers, body


def _refused(refused: UnvalidatedDestinations, current: S3Request) -> TYPE_RESPONSE:
    arguments = "".join(f"<ArgumentName{n}>{escape(arn)}</ArgumentName{n}><ArgumentValue{n}>{escape(reason)}"
                        f"</ArgumentValue{n}>" for n, (arn, reason) in enumerate(refused.refusals, start=1))
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>InvalidArgument</Code><Message>{UNVALIDATED}</Message>{arguments}"
            f"<RequestId>{current.request_id}</RequestId><HostId>{current.host_id}</HostId></Error>")
    return 400, {"Content-Type": APP_XML}, body.encode()


def install_s3() -> None:
    """Make moto build S3 backends from LocalS3Backend, and send AWS's event messages."""
    install_notifier()
    backends = moto_s3.s3_backends
    if backends.backend is not LocalS3Backend:
        backends.backend = LocalS3Backend
        backends.clear()
