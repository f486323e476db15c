"""The new-data watcher on the endpoint's SQS: it fires for new partitions, drops and deletes everything else,
and names a queue that does not exist until it does."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from airflow_sagemaker_pipelines.triggers.new_partitions import NewPartitionTrigger

from tests.support.pipelines import unique


def notifying_queue(s3: Any, sqs: Any, bucket: str) -> str:
    """A queue the bucket notifies of objects created under raw-data/, as the seeding sets it up."""
    name = unique("new-data")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sqs:SendMessage", "Resource": arn,
        "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{bucket}"}}}]})})
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [{
        "QueueArn": arn, "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "raw-data/"}]}}}]})
    return name


def first_event(trigger: NewPartitionTrigger, timeout: float = 60) -> dict:
    async def scenario() -> dict:
        runner = trigger.run()
        event = await asyncio.wait_for(anext(runner), timeout)
        await runner.aclose()
        return event.payload

    return asyncio.run(scenario())


def messages_left(sqs: Any, name: str) -> int:
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(counts["ApproximateNumberOfMessages"]) + int(counts["ApproximateNumberOfMessagesNotVisible"])


def test_new_objects_fire_one_event_by_day_and_every_other_message_is_dropped_and_deleted(
        aws_default_connection, endpoint_client, s3, bucket, capfd) -> None:
    sqs = endpoint_client("sqs")
    name = notifying_queue(s3, sqs, bucket)  # S3 sends its test event to the queue now
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="{not json")
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"hello": "world"}))
    s3.put_object(Bucket=bucket, Key="scores/ds=2024-03-01/a.csv", Body=b"x")  # outside the prefix: no message
    for key in ("raw-data/ds=2024-03-01/a.csv", "raw-data/ds=2024-03-01/b.csv", "raw-data/ds=2024-03-02/a.csv",
                "raw-data/ds=2024-03-01/a.csv"):  # the same object written twice
        s3.put_object(Bucket=bucket, Key=key, Body=b"1,2,3\n")

    capfd.readouterr()
    payload = first_event(NewPartitionTrigger(queue_name=name, data_prefix="raw-data", wait_time_seconds=1,
                                              waiter_delay=1))

    assert payload == {"partitions": {"2024-03-01": ["raw-data/ds=2024-03-01/a.csv", "raw-data/ds=2024-03-01/b.csv"],
                                      "2024-03-02": ["raw-data/ds=2024-03-02/a.csv"]}}
    assert messages_left(sqs, name) == 0  # the dropped ones too: none comes back after the visibility timeout
    dropped = [line for line in capfd.readouterr().out.splitlines() if "Dropped message" in line]
    assert len(dropped) == 3, dropped
    assert any("S3's test event" in line for line in dropped) and any("not JSON" in line for line in dropped)
    assert any("no Records" in line for line in dropped)


def test_a_queue_that_does_not_exist_is_named_and_looked_for_until_it_does(aws_default_connection, endpoint_client,
                                                                           capfd) -> None:
    sqs = endpoint_client("sqs")
    name = unique("missing-queue")
    logged: list[str] = []
    trigger = NewPartitionTrigger(queue_name=name, data_prefix="raw-data", wait_time_seconds=1, waiter_delay=0)

    async def scenario() -> dict:
        runner = trigger.run()
        waiting = asyncio.ensure_future(anext(runner))
        while not any(f"SQS queue {name!r} does not exist" in line for line in logged):
            assert not waiting.done(), "fired without a queue"
            await asyncio.sleep(0.05)
            logged.extend(capfd.readouterr().out.splitlines())
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"Records": [{
            "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
            "s3": {"object": {"key": "raw-data/ds=2024-03-05/a.csv"}}}]}))
        event = await asyncio.wait_for(waiting, 60)
        await runner.aclose()
        return event.payload

    assert asyncio.run(scenario()) == {"partitions": {"2024-03-05": ["raw-data/ds=2024-03-05/a.csv"]}}
    named = next(line for line in logged if "does not exist" in line)
    assert "no run starts until it does; S3's notifications for raw-data/ must go to it" in named


def test_the_watcher_serializes_to_what_it_is_built_from() -> None:
    trigger = NewPartitionTrigger(queue_name="q", data_prefix="raw-data", aws_conn_id="aws_prod")
    classpath, kwargs = trigger.serialize()
    rebuilt = NewPartitionTrigger(**kwargs)
    assert classpath == "airflow_sagemaker_pipelines.triggers.new_partitions.NewPartitionTrigger"
    assert rebuilt.serialize() == (classpath, kwargs) and kwargs["aws_conn_id"] == "aws_prod"


@pytest.fixture(autouse=True)
def _no_shared_client_left() -> Any:
    from airflow_sagemaker_pipelines.hooks.shared_async_clients import open_clients

    yield
    assert open_clients() == 0
