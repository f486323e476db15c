"""S3 bucket notifications to SQS as AWS sends them: one event per upload, refused destinations, whole records.

What AWS does is taken from its documentation ("Event message structure") and from messages recorded
against AWS: a multipart upload is one `ObjectCreated:CompleteMultipartUpload`; a queue that does not
exist, or whose policy does not let S3 send, makes PutBucketNotificationConfiguration fail with
`InvalidArgument` and saves nothing; saving a configuration sends `s3:TestEvent` to each queue.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.constants import REGION
from tests.support.pipelines import unique

from .endpoint_process import EndpointProcess

MULTIPART_BYTES = 9 * 1024 * 1024  # over boto3's 8 MB multipart threshold: upload_file sends two parts
MISSING = "The destination queue does not exist"
UNVALIDATED = "Unable to validate the following destination configurations"
DENIED = "Permissions on the destination queue do not allow S3 to publish notifications from this bucket"
EVENT_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


@pytest.fixture(scope="module")
def sqs(endpoint_client: Any) -> Any:
    return endpoint_client("sqs")


def s3_may_send(queue_arn: str, bucket: str) -> str:
    """The queue policy AWS's documentation gives for S3 notifications from one bucket."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": ["SQS:SendMessage"],
        "Resource": queue_arn, "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:*:*:{bucket}"}}}]})


def queue(sqs: Any, allowed_bucket: str | None) -> tuple[str, str]:
    """A new queue (its URL, its ARN) whose policy lets S3 send from `allowed_bucket` (None: no policy)."""
    url = sqs.create_queue(QueueName=unique("events"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    if allowed_bucket:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": s3_may_send(arn, allowed_bucket)})
    return url, arn


def notify(s3: Any, bucket: str, queue_arn: str, events: list[str], *, prefix: str = "", suffix: str = "",
           configuration_id: str = "new-objects") -> dict[str, Any]:
    rules = [{"Name": name, "Value": value} for name, value in (("prefix", prefix), ("suffix", suffix)) if value]
    configuration: dict[str, Any] = {"Id": configuration_id, "QueueArn": queue_arn, "Events": events}
    if rules:
        configuration["Filter"] = {"Key": {"FilterRules": rules}}
    return s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [configuration]})


def received(sqs: Any, url: str) -> list[dict[str, Any]]:
    """Every message on the queue (S3 sends before it answers), removed from it."""
    bodies = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", []):
        for message in batch:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def records(sqs: Any, url: str) -> list[dict[str, Any]]:
    """The event records on the queue, its test events left out."""
    return [record for body in received(sqs, url) if body.get("Event") != "s3:TestEvent" for record in body["Records"]]


def bucket_with_queue(s3: Any, sqs: Any, events: list[str], **filters: str) -> tuple[str, str]:
    bucket = unique("notified")
    s3.create_bucket(Bucket=bucket)
    url, arn = queue(sqs, bucket)
    notify(s3, bucket, arn, events, **filters)
    received(sqs, url)  # the test event
    return bucket, url


def test_a_multipart_upload_sends_one_complete_multipart_upload_event(s3, sqs, tmp_path: Path) -> None:
    bucket, url = bucket_with_queue(s3, sqs, ["s3:ObjectCreated:*", "s3:ObjectTagging:*"])
    path = tmp_path / "large.bin"
    path.write_bytes(b"x" * MULTIPART_BYTES)

    s3.upload_file(str(path), bucket, "raw-data/large.bin")

    [record] = records(sqs, url)
    assert record["eventName"] == "ObjectCreated:CompleteMultipartUpload"
    assert record["s3"]["object"]["size"] == MULTIPART_BYTES
    assert record["s3"]["object"]["eTag"] == s3.head_object(Bucket=bucket, Key="raw-data/large.bin")["ETag"].strip('"')
    assert record["s3"]["object"]["eTag"].endswith("-2")


def test_a_put_sends_only_its_creation_event_and_a_tagging_sends_its_own(s3, sqs) -> None:
    bucket, url = bucket_with_queue(s3, sqs, ["s3:ObjectCreated:*", "s3:ObjectTagging:*"])

    s3.put_object(Bucket=bucket, Key="raw-data/a.csv", Body=b"a,b\n", Tagging="origin=test")
    assert [record["eventName"] for record in records(sqs, url)] == ["ObjectCreated:Put"]
    s3.copy_object(Bucket=bucket, Key="raw-data/b.csv", CopySource={"Bucket": bucket, "Key": "raw-data/a.csv"},
                   TaggingDirective="REPLACE", Tagging="origin=copy")
    assert [record["eventName"] for record in records(sqs, url)] == ["ObjectCreated:Copy"]

    s3.put_object_tagging(Bucket=bucket, Key="raw-data/a.csv", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    [tagged] = records(sqs, url)
    assert tagged["eventName"] == "ObjectTagging:Put"
    assert tagged["eventVersion"] == "2.3"  # AWS's version for tagging events: eTag, no size or sequencer
    assert set(tagged["s3"]["object"]) == {"key", "eTag"}


def test_a_queue_that_does_not_exist_is_refused_with_aws_error_and_nothing_is_saved(s3, sqs) -> None:
    bucket = unique("refused")
    s3.create_bucket(Bucket=bucket)
    _, existing = queue(sqs, bucket)
    missing = f"arn:aws:sqs:{REGION}:123456789012:{unique('missing')}"

    with pytest.raises(ClientError) as refused:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [
            {"QueueArn": existing, "Events": ["s3:ObjectCreated:*"]},
            {"QueueArn": missing, "Events": ["s3:ObjectCreated:*"]}]})

    error = refused.value.response["Error"]
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error == {"Code": "InvalidArgument", "Message": UNVALIDATED,
                     "ArgumentName1": missing, "ArgumentValue1": MISSING}
    assert refused.value.response["ResponseMetadata"]["RequestId"]
    assert "QueueConfigurations" not in s3.get_bucket_notification_configuration(Bucket=bucket)


def test_a_queue_whose_policy_does_not_let_s3_send_from_the_bucket_is_refused(s3, sqs) -> None:
    bucket = unique("refused")
    s3.create_bucket(Bucket=bucket)
    _, no_policy = queue(sqs, None)
    _, other_bucket_only = queue(sqs, "another-bucket")
    _, allowed = queue(sqs, bucket)

    with pytest.raises(ClientError) as refused:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [
            {"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]} for arn in (no_policy, allowed, other_bucket_only)]})

    error = refused.value.response["Error"]
    assert (error["Code"], error["Message"]) == ("InvalidArgument", UNVALIDATED)
    assert {key: value for key, value in error.items() if key.startswith("Argument")} == {
        "ArgumentName1": no_policy, "ArgumentValue1": DENIED,
        "ArgumentName2": other_bucket_only, "ArgumentValue2": DENIED}
    notify(s3, bucket, allowed, ["s3:ObjectCreated:*"])
    assert s3.get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"][0]["QueueArn"] == allowed


def test_an_event_record_has_every_field_aws_sends_and_a_later_event_a_greater_sequencer(s3, sqs) -> None:
    bucket, url = bucket_with_queue(s3, sqs, ["s3:ObjectCreated:Put"])
    key = "raw-data/ds=2024-01-01/day one.csv"

    put = s3.put_object(Bucket=bucket, Key=key, Body=b"label,x\n1,0.5\n")
    again = s3.put_object(Bucket=bucket, Key=key, Body=b"label,x\n0,0.1\n")

    first, second = records(sqs, url)
    owner = first["s3"]["bucket"]["ownerIdentity"]["principalId"]
    assert first == {
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": REGION, "eventTime": first["eventTime"],
        "eventName": "ObjectCreated:Put", "userIdentity": {"principalId": first["userIdentity"]["principalId"]},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": put["ResponseMetadata"]["RequestId"],
                             "x-amz-id-2": put["ResponseMetadata"]["HostId"]},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "new-objects",
               "bucket": {"name": bucket, "ownerIdentity": {"principalId": owner}, "arn": f"arn:aws:s3:::{bucket}"},
               "object": {"key": "raw-data/ds%3D2024-01-01/day+one.csv", "size": 14, "eTag": put["ETag"].strip('"'),
                          "sequencer": first["s3"]["object"]["sequencer"]}},
    }
    assert EVENT_TIME.match(first["eventTime"])
    assert first["userIdentity"]["principalId"].startswith("AWS:")
    assert re.fullmatch(r"A[0-9A-Z]{12,}", owner)
    assert re.fullmatch(r"[0-9A-F]{16}", put["ResponseMetadata"]["RequestId"])
    assert second["responseElements"]["x-amz-request-id"] == again["ResponseMetadata"]["RequestId"]
    assert again["ResponseMetadata"]["RequestId"] != put["ResponseMetadata"]["RequestId"]
    sequencers = [first["s3"]["object"]["sequencer"], second["s3"]["object"]["sequencer"]]
    assert all(re.fullmatch(r"[0-9A-F]+", sequencer) for sequencer in sequencers)
    assert len(sequencers[0]) == len(sequencers[1]) and sequencers[0] < sequencers[1]


def test_saving_a_configuration_sends_a_test_event_to_each_queue(s3, sqs) -> None:
    bucket = unique("tested")
    s3.create_bucket(Bucket=bucket)
    (first_url, first_arn), (second_url, second_arn) = queue(sqs, bucket), queue(sqs, bucket)

    saved = s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [
        {"QueueArn": first_arn, "Events": ["s3:ObjectCreated:*"]},
        {"QueueArn": first_arn, "Events": ["s3:ObjectRemoved:*"]},
        {"QueueArn": second_arn, "Events": ["s3:ObjectCreated:*"]}]})

    for url in (first_url, second_url):
        [test_event] = received(sqs, url)  # one per queue, however many configurations name it
        assert test_event == {"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": test_event["Time"],
                              "Bucket": bucket, "RequestId": saved["ResponseMetadata"]["RequestId"],
                              "HostId": saved["ResponseMetadata"]["HostId"]}
        assert EVENT_TIME.match(test_event["Time"])


def test_the_object_created_wildcard_and_prefix_and_suffix_filters_send_only_matching_keys(s3, sqs) -> None:
    bucket, url = bucket_with_queue(s3, sqs, ["s3:ObjectCreated:*"], prefix="raw-data/", suffix=".csv")

    s3.put_object(Bucket=bucket, Key="raw-data/ds=2024-01-02/dataset.csv", Body=b"1")
    s3.copy_object(Bucket=bucket, Key="raw-data/copy.csv",
                   CopySource={"Bucket": bucket, "Key": "raw-data/ds=2024-01-02/dataset.csv"})
    for outside in ("processed/dataset.csv", "raw-data/notes.txt", "dataset.csv"):
        s3.put_object(Bucket=bucket, Key=outside, Body=b"2")
    s3.delete_object(Bucket=bucket, Key="raw-data/copy.csv")  # not an ObjectCreated event

    assert [(record["eventName"], record["s3"]["object"]["key"]) for record in records(sqs, url)] == [
        ("ObjectCreated:Put", "raw-data/ds%3D2024-01-02/dataset.csv"), ("ObjectCreated:Copy", "raw-data/copy.csv")]


def test_an_s3_state_saved_before_the_extension_is_restored_with_it(tmp_path: Path, endpoint_processes: Any) -> None:
    """A work dir's state from before the endpoint extended S3 (moto's S3 backend pickled) notifies as AWS does."""
    work_dir, bucket = tmp_path / "work", "saved-before"
    saved = subprocess.run([sys.executable, "-c", (
        "import sys\nfrom pathlib import Path\nfrom moto.s3.models import s3_backends\n"
        "from devtools.local_sagemaker.persistence.store import StateStore\n"
        f"s3_backends['123456789012']['aws'].create_bucket({bucket!r}, {REGION!r})\n"
        "StateStore(Path(sys.argv[1])).save_now(['s3'])\n"), str(work_dir / "state")],
        cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True, timeout=120)
    assert saved.returncode == 0, saved.stderr

    endpoint: EndpointProcess = endpoint_processes("--work-dir", str(work_dir))
    assert "restored: s3" in endpoint.ready_line
    s3, sqs = endpoint.client("s3"), endpoint.client("sqs")
    url, arn = queue(sqs, bucket)
    with pytest.raises(ClientError):
        notify(s3, bucket, f"arn:aws:sqs:{REGION}:123456789012:missing", ["s3:ObjectCreated:*"])
    notify(s3, bucket, arn, ["s3:ObjectCreated:*"])
    path = tmp_path / "large.bin"
    path.write_bytes(b"x" * MULTIPART_BYTES)
    s3.upload_file(str(path), bucket, "raw-data/large.bin")
    assert [record["eventName"] for record in records(sqs, url)] == ["ObjectCreated:CompleteMultipartUpload"]
