"""S3's event notification messages as AWS sends them: whole records, and the test event.

moto builds and sends every bucket event in `moto.s3.notifications`: `send_event` for each object
event, `send_test_event` when a configuration is saved. Its models call both through that module,
so `install_notifier()` puts this module's in their place, for every destination moto serves (SQS,
SNS, Lambda; EventBridge keeps moto's own message). A record here is AWS's ("Event message
structure" in the S3 guide, and messages AWS sent): the request that caused it (`userIdentity`,
`requestParameters`, `responseElements`: s3_requests.py), the bucket owner, the key URL-encoded as S3
writes it ("a b/c=d" is "a+b/c%3Dd"), a `sequencer` that grows from one event to the next, and the
object fields of its kind (a removal has no size or eTag; a tagging or ACL event is version 2.3, with
an eTag and no size or sequencer). moto's had no request, owner or sequencer, and encoded "/" too.
Only the events the request's operation sends go out (s3_requests.announces). SQS gets a message
only while the queue's policy lets S3 send (queue_policies.py), as SQS authorizes each send.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from typing import Any
from urllib.parse import quote_plus

from moto.core.utils import iso_8601_datetime_with_milliseconds
from moto.s3 import notifications as moto_notifications
from moto.sqs.models import sqs_backends

from . import s3_requests
from .queue_policies import find_queue, s3_may_send
from .s3_requests import S3Request

VERSION_3_KINDS = ("ObjectTagging", "ObjectAcl")  # AWS's records of these are eventVersion 2.3
SIZED_KINDS = ("ObjectCreated", "ObjectRestore")
logger = logging.getLogger(__name__)

_sequence_lock = threading.Lock()
_last_sequence = 0


def next_sequencer() -> str:
    """Hex, fixed width, greater than any before it, across restarts too (nanoseconds since the epoch)."""
    global _last_sequence
    with _sequence_lock:
        _last_sequence = max(time.time_ns(), _last_sequence + 1)
        return f"{_last_sequence:018X}"


def owner_principal_id(account_id: str) -> str:
    """A stable stand-in for the bucket owner's Amazon customer id (`A3NL1KOZZKExample` in AWS's examples)."""
    return "A" + hashlib.sha256(account_id.encode()).hexdigest()[:13].upper()


def event_record(event_name: str, bucket: Any, key: Any, configuration_id: str, request: S3Request,
                 sequencer: str, event_time: str) -> dict[str, Any]:
    """One record of an event (moto's name, `s3:ObjectCreated:Put`) on `key`, for one configuration."""
    name = event_name.removeprefix("s3:")
    kind = name.split(":")[0]
    obj: dict[str, Any] = {"key": quote_plus(key.name, safe="/")}
    etag = str(getattr(key, "etag", "")).strip('"')
    if kind in SIZED_KINDS:
        obj.update(size=key.size, eTag=etag)
    elif kind in VERSION_3_KINDS:
        obj["eTag"] = etag
    if bucket.is_versioned:
        obj["versionId"] = key.version_id
    if kind not in VERSION_3_KINDS:
        obj["sequencer"] = sequencer
    return {
        "eventVersion": "2.3" if kind in VERSION_3_KINDS else "2.1",
        "eventSource": "aws:s3",
        "awsRegion": bucket.region_name,
        "eventTime": event_time,
        "eventName": name,
        "userIdentity": {"principalId": request.principal_id(bucket.account_id)},
        "requestParameters": {"sourceIPAddress": request.source_ip},
        "responseElements": {"x-amz-request-id": request.request_id, "x-amz-id-2": request.host_id},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": configuration_id,
            "bucket": {"name": bucket.name, "ownerIdentity": {"principalId": owner_principal_id(bucket.account_id)},
                       "arn": bucket.arn},
            "object": obj,
        },
    }


def s3_test_event(bucket: Any, request: S3Request) -> dict[str, Any]:
    return {"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": iso_8601_datetime_with_milliseconds(),
            "Bucket": bucket.name, "RequestId": request.request_id, "HostId": request.host_id}


def send_event(account_id: str, event_name: str, bucket: Any, key: Any) -> None:
    """moto's `send_event`: a message to each destination whose events and key filter match."""
    configuration = bucket.notification_configuration
    if configuration is None or not s3_requests.announces(event_name):
        return
    request, sequencer, event_time = s3_requests.current(), next_sequencer(), iso_8601_datetime_with_milliseconds()

    def message(notification: Any) -> dict[str, Any]:
        return {"Records": [event_record(event_name, bucket, key, notification.id, request, sequencer, event_time)]}

    for notification in configuration.queue:
        if notification.matches(event_name, key.name):
            _send_to_queue(notification.arn, message(notification), bucket)
    for notification in configuration.topic:
        if notification.matches(event_name, key.name):
            moto_notifications._send_sns_message(account_id, message(notification), notification.arn,
                                                 notification.arn.split(":")[3])
    for notification in configuration.cloud_function:
        if notification.matches(event_name, key.name):
            moto_notifications._invoke_awslambda(account_id, message(notification), notification.arn,
                                                 notification.arn.split(":")[3])
    if configuration.event_bridge is not None:
        moto_notifications._send_event_bridge_message(account_id, bucket, event_name, key)


def send_test_event(account_id: str, bucket: Any) -> None:
    """moto's `send_test_event`: one `s3:TestEvent` to each queue and topic, however many configurations name it."""
    body = s3_test_event(bucket, s3_requests.current())
    for arn in dict.fromkeys(notification.arn for notification in bucket.notification_configuration.queue):
        _send_to_queue(arn, body, bucket)
    for arn in dict.fromkeys(notification.arn for notification in bucket.notification_configuration.topic):
        moto_notifications._send_sns_message(account_id, body, arn, arn.split(":")[3])


def _send_to_queue(queue_arn: str, body: dict[str, Any], bucket: Any) -> None:
    queue = find_queue(queue_arn)
    if queue is None or not s3_may_send(queue.policy, queue_arn, bucket.name, bucket.account_id):
        return  # AWS drops what it may no longer deliver; the request that caused it succeeds
    _, _, _, region, account, name = queue_arn.split(":")
    try:
        sqs_backends[account][region].send_message(queue_name=name, message_body=json.dumps(body))
    except Exception:  # delivery is asynchronous on AWS: it never fails the S3 request
        logger.warning("The local endpoint could not send an S3 event to %s", queue_arn, exc_info=True)


def install_notifier() -> None:
    moto_notifications.send_event = send_event  # type: ignore[assignment]
    moto_notifications.send_test_event = send_test_event  # type: ignore[assignment]
