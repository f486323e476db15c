"""What an S3 notification on the new-data queue announces: the partitions of its new objects, or why it is dropped."""

from __future__ import annotations

import json

import pytest
from airflow_sagemaker_pipelines.s3_notifications import announced_partitions


def record(key: str, event: str = "ObjectCreated:Put", source: str = "aws:s3") -> dict:
    """An S3 event record as AWS sends it (the fields read here)."""
    return {"eventVersion": "2.1", "eventSource": source, "awsRegion": "eu-west-1", "eventName": event,
            "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": "bucket"}, "object": {"key": key, "size": 3}}}


def test_objects_created_under_day_partitions_are_announced_by_day() -> None:
    body = json.dumps({"Records": [record("raw-data/ds=2024-03-01/a.csv"), record("raw-data/ds=2024-03-01/b.csv"),
                                   record("raw-data/ds=2024-03-02/part+1.csv",
                                          "ObjectCreated:CompleteMultipartUpload")]})
    announcement = announced_partitions(body, "raw-data")
    assert announcement.dropped is None
    assert announcement.days == {"2024-03-01": ["raw-data/ds=2024-03-01/a.csv", "raw-data/ds=2024-03-01/b.csv"],
                                 "2024-03-02": ["raw-data/ds=2024-03-02/part 1.csv"]}  # keys come URL-encoded


@pytest.mark.parametrize(("body", "reason"), [
    ("{not json", "not JSON"),
    ("[1, 2]", "not an S3 notification (JSON but not an object)"),
    (json.dumps({"hello": "world"}), "not an S3 notification (no Records)"),
    (json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "bucket"}), "S3's test event"),
    (json.dumps({"Records": [record("raw-data/ds=2024-03-01/a.csv", "ObjectRemoved:Delete")]}),
     "a ObjectRemoved:Delete event, not ObjectCreated"),
    (json.dumps({"Records": [record("raw-data/ds=2024-03-01/a.csv", source="aws:sqs")]}), "a record not from S3"),
    (json.dumps({"Records": [record("scores/ds=2024-03-01/a.csv")]}), "is not under raw-data/ds=YYYY-MM-DD/"),
    (json.dumps({"Records": [record("raw-data/ds=2024-13-01/a.csv")]}), "is not under raw-data/ds=YYYY-MM-DD/"),
    (json.dumps({"Records": [record("raw-data/ds=2024-03-01/")]}), "is not under raw-data/ds=YYYY-MM-DD/"),
    (json.dumps({"Records": []}), "no records"),
])
def test_a_message_that_announces_no_partition_is_dropped_with_the_reason(body: str, reason: str) -> None:
    announcement = announced_partitions(body, "raw-data")
    assert announcement.days == {}
    assert announcement.dropped is not None and reason in announcement.dropped, announcement.dropped
