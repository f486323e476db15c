"""Watch the queue S3 notifies of new objects, and fire when a data partition has new objects (an AssetWatcher's trigger).

The Amazon provider's SqsSensorTrigger (what common-messaging's MessageQueueTrigger runs for SQS)
would do for a clean queue, but a real one is not: its JSONPath filter raises on a body that is not
JSON, killing the watcher, and the messages it filters out are never deleted, so S3's test event and
any stray message come back after every visibility timeout, forever. This trigger reads the same
queue with the provider's hook (long polls, logged only when they bring messages), deletes every
message it has read, and keeps only ObjectCreated records under `<prefix>/ds=YYYY-MM-DD/`
(s3_notifications.py); the rest are logged with the reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.providers.amazon.aws.triggers.sqs import SqsSensorTrigger
from airflow.triggers.base import TriggerEvent
from botocore.exceptions import ClientError

from ..hooks.shared_async_clients import shared_client
from ..hooks.transient_errors import is_transient
from ..s3_notifications import announced_partitions, merge_days

MISSING_QUEUE_CODES = ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")


def _missing_queue(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in MISSING_QUEUE_CODES


class NewPartitionTrigger(SqsSensorTrigger):
    """Fires `{"partitions": {day: [keys]}}` once messages announce objects of one or more partitions.

    Long-polls the queue (one ReceiveMessage per `wait_time_seconds` while it is empty). A queue that
    does not exist is reported by name, and looked for again every `waiter_delay` seconds: nothing
    starts until it exists.

    :param queue_name: the SQS queue's name; its URL is asked for (GetQueueUrl) through the connection.
    :param data_prefix: the data's key prefix, `raw-data` for `raw-data/ds=2024-03-01/…`.
    """

    def __init__(self, *, queue_name: str, data_prefix: str, aws_conn_id: str | None = "aws_default",
                 wait_time_seconds: int = 20, waiter_delay: int = 60, region_name: str | None = None,
                 verify: bool | str | None = None, botocore_config: dict | None = None) -> None:
        super().__init__(sqs_queue=queue_name, aws_conn_id=aws_conn_id, max_messages=10, num_batches=1,
                         wait_time_seconds=wait_time_seconds, waiter_delay=waiter_delay, region_name=region_name,
                         verify=verify, botocore_config=botocore_config)
        self.queue_name = queue_name
        self.data_prefix = data_prefix

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (f"{type(self).__module__}.{type(self).__qualname__}", {
            "queue_name": self.queue_name, "data_prefix": self.data_prefix, "aws_conn_id": self.aws_conn_id,
            "wait_time_seconds": self.wait_time_seconds, "waiter_delay": self.waiter_delay,
            "region_name": self.region_name, "verify": self.verify, "botocore_config": self.botocore_config,
        })

    async def run(self) -> AsyncIterator[TriggerEvent]:
        async with shared_client(self.hook, self.botocore_config) as client:
            queue_url = None
            while True:
                try:
                    queue_url = queue_url or await self.queue_url(client)
                    partitions = await self.new_partitions(client, queue_url) if queue_url else {}
                except ClientError as error:
                    if not _missing_queue(error):
                        raise
                    queue_url, partitions = None, {}  # deleted meanwhile: look it up again
                    self.log.error("SQS queue %r does not exist any more", self.queue_name)
                except Exception as error:
                    if not is_transient(error):
                        raise
                    # A watcher outlives any outage: it reads the queue again once SQS answers.
                    self.log.warning("SQS queue %r unreachable (%s): trying again in %d s", self.queue_name, error,
                                     self.waiter_delay)
                    await asyncio.sleep(self.waiter_delay)
                    continue
                if partitions:
                    self.log.info("New data: %s", ", ".join(f"{day} ({len(keys)} objects)"
                                                            for day, keys in sorted(partitions.items())))
                    yield TriggerEvent({"partitions": partitions})
                    return
                if queue_url is None:
                    await asyncio.sleep(self.waiter_delay)

    async def queue_url(self, client: Any) -> str | None:
        """The queue's URL; None (logged, naming the queue) while it does not exist."""
        try:
            return (await client.get_queue_url(QueueName=self.queue_name))["QueueUrl"]
        except ClientError as error:
            if not _missing_queue(error):
                raise
            self.log.error("SQS queue %r does not exist (connection %s): no run starts until it does; S3's "
                           "notifications for %s/ must go to it. Looking again in %d s", self.queue_name,
                           self.aws_conn_id, self.data_prefix, self.waiter_delay)
            return None

    async def new_partitions(self, client: Any, queue_url: str) -> dict[str, list[str]]:
        """One long poll: the partitions its messages announce. Every message read is deleted, kept or not."""
        response = await client.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=self.max_messages,
                                                WaitTimeSeconds=self.wait_time_seconds)
        messages = response.get("Messages", [])
        partitions: dict[str, list[str]] = {}
        for message in messages:
            announcement = announced_partitions(message.get("Body", ""), self.data_prefix)
            if announcement.dropped:
                self.log.info("Dropped message %s from %s: %s", message.get("MessageId"), self.queue_name,
                              announcement.dropped)
            merge_days(partitions, announcement.days)
        if messages:
            entries = [{"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                       for index, message in enumerate(messages)]
            deleted = await client.delete_message_batch(QueueUrl=queue_url, Entries=entries)
            for failure in deleted.get("Failed", []):  # read again after the visibility timeout: the same day
                self.log.warning("Message not deleted from %s: %s", self.queue_name, failure)
        return partitions
