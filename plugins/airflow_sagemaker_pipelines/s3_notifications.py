"""Which data partitions an SQS message from S3's bucket notifications announces, or why it announces none.

S3 sends a message per event to the queue: `{"Records": [...]}` with one ObjectCreated record per new
object (a multipart upload's is `ObjectCreated:CompleteMultipartUpload`), and one `s3:TestEvent` when
the notification configuration is saved. Anything else may reach the same queue (another sender, a
hand-made message). Only objects under `<prefix>/ds=YYYY-MM-DD/` count; every other message is
dropped with its reason, never an error: the watcher must outlive whatever lands on its queue.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any, NamedTuple
from urllib.parse import unquote_plus


class Announcement(NamedTuple):
    """What one message says: the keys it announces per data day, or why it is dropped."""

    days: dict[str, list[str]]  # YYYY-MM-DD -> keys under that day's partition
    dropped: str | None = None  # why nothing in it counts


def merge_days(into: dict[str, list[str]], days: dict[str, list[str]]) -> dict[str, list[str]]:
    """`into` with the keys of `days` added per day, each key once (S3 may announce an object twice)."""
    for day, keys in days.items():
        known = into.setdefault(day, [])
        known.extend(key for key in dict.fromkeys(keys) if key not in known)
    return into


def partition_pattern(data_prefix: str) -> re.Pattern[str]:
    """An object key of a day's partition: `<prefix>/ds=YYYY-MM-DD/<file>` (deeper folders included)."""
    return re.compile(rf"^{re.escape(data_prefix)}/ds=(\d{{4}}-\d{{2}}-\d{{2}})/(?!.*/$).+")


def announced_partitions(body: str, data_prefix: str) -> Announcement:
    """The partitions an S3 notification announces; a message that announces none says why."""
    try:
        message = json.loads(body)
    except ValueError as error:
        return Announcement({}, f"not JSON ({error.__class__.__name__}: {error})")
    if not isinstance(message, dict):
        return Announcement({}, "not an S3 notification (JSON but not an object)")
    if message.get("Event") == "s3:TestEvent":
        return Announcement({}, f"S3's test event for bucket {message.get('Bucket')!r} (sent when notifications are "
                                "configured)")
    records = message.get("Records")
    if not isinstance(records, list):
        return Announcement({}, "not an S3 notification (no Records)")
    pattern = partition_pattern(data_prefix)
    days: dict[str, list[str]] = {}
    skipped: list[str] = []
    for record in records:
        key, reason = _created_key(record)
        if key is None:
            skipped.append(reason)
            continue
        match = pattern.match(key)
        if match is None or not _is_day(match[1]):
            skipped.append(f"{key!r} is not under {data_prefix}/ds=YYYY-MM-DD/")
            continue
        merge_days(days, {match[1]: [key]})
    if days:
        return Announcement(days)
    return Announcement({}, "; ".join(skipped) or "no records")


def _created_key(record: Any) -> tuple[str | None, str]:
    """The object key an ObjectCreated record names, else None and why."""
    if not isinstance(record, dict) or record.get("eventSource") != "aws:s3":
        return None, "a record not from S3"
    event = str(record.get("eventName", ""))
    if not event.startswith("ObjectCreated:"):
        return None, f"a {event or 'nameless'} event, not ObjectCreated"
    key = ((record.get("s3") or {}).get("object") or {}).get("key")
    if not isinstance(key, str) or not key:
        return None, "an ObjectCreated record without an object key"
    return unquote_plus(key), ""  # S3 sends keys URL-encoded, spaces as +


def _is_day(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True
