"""Wait in the triggerer for a day's partition to hold data, up to a deadline.

Data lands late in real life: the run for a day waits for its partition instead of failing, holding
no worker slot. One ListObjectsV2 per poll; an outage of the S3 API within the budget costs polls.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from ..hooks.provider_clients import S3Hook
from ..hooks.shared_async_clients import shared_client
from ..hooks.transient_errors import DEFAULT_OUTAGE_BUDGET_SECONDS, OutageClock


class DataPartitionTrigger(BaseTrigger):
    """Fires one event: `found` (an object is under the prefix), `timeout` (none by the deadline) or `error`.

    :param bucket: the partition's bucket.
    :param prefix: the partition's key prefix (`raw-data/ds=2024-03-01/`).
    :param deadline: epoch seconds after which the wait ends with `timeout`.
    :param poll_interval: seconds between two listings.
    """

    def __init__(self, bucket: str, prefix: str, deadline: float, poll_interval: float, aws_conn_id: str | None,
                 region_name: str | None = None, verify: bool | str | None = None,
                 botocore_config: dict | None = None) -> None:
        super().__init__()
        self.bucket = bucket
        self.prefix = prefix
        self.deadline = deadline
        self.poll_interval = poll_interval
        self.aws_conn_id = aws_conn_id
        self.region_name = region_name
        self.verify = verify
        self.botocore_config = botocore_config

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (f"{type(self).__module__}.{type(self).__qualname__}", {
            "bucket": self.bucket, "prefix": self.prefix, "deadline": self.deadline,
            "poll_interval": self.poll_interval, "aws_conn_id": self.aws_conn_id, "region_name": self.region_name,
            "verify": self.verify, "botocore_config": self.botocore_config,
        })

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = S3Hook(aws_conn_id=self.aws_conn_id, region_name=self.region_name, verify=self.verify,
                      config=self.botocore_config)
        outages = OutageClock(DEFAULT_OUTAGE_BUDGET_SECONDS)
        where = f"s3://{self.bucket}/{self.prefix}"
        async with shared_client(hook, self.botocore_config) as client:
            while True:
                try:
                    found = await self._holds_data(hook, client)
                except Exception as error:
                    outage = outages.unreachable(error)
                    if outage.exhausted:
                        yield TriggerEvent({"status": "error", "message": f"{where}: {outage}"})
                        return
                    self.log.warning("Still waiting for %s: %s", where, outage)
                    found = False
                else:
                    outages.reachable()
                if found:
                    self.log.info("Data arrived at %s", where)
                    yield TriggerEvent({"status": "found"})
                    return
                left = self.deadline - time.time()
                if left <= 0:
                    yield TriggerEvent({"status": "timeout"})
                    return
                self.log.info("No data at %s yet; waiting %.0f s more at most", where, left)
                await asyncio.sleep(min(self.poll_interval, left))

    async def _holds_data(self, hook: S3Hook, client: Any) -> bool:
        async for item in hook.get_file_metadata_async(client, self.bucket, self.prefix):
            if not item["Key"].endswith("/"):
                return True
        return False
