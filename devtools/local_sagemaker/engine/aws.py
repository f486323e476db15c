"""boto3 clients the engine uses to reach the endpoint it runs in (S3, Logs, SageMaker)."""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

# The endpoint accepts any credentials; these never leave 127.0.0.1.
LOCAL_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


class EndpointClients:
    """One boto3 session per endpoint and region; clients are created once and shared."""

    def __init__(self, endpoint_url: str, region: str) -> None:
        self.endpoint_url = endpoint_url
        self.region = region
        self._session = boto3.session.Session(region_name=region, **LOCAL_CREDENTIALS)
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def client(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                client = self._session.client(
                    service,
                    endpoint_url=self.endpoint_url,
                    config=Config(retries={"max_attempts": 2}, max_pool_connections=32),
                )
                # botocore builds a client's modeled exception classes on first use, without a lock: two
                # threads meeting a new client at once could get two sets, and `except
                # client.exceptions.X` missed the X the other set raised (two model servers of a restarted
                # endpoint creating its log group: "ResourceAlreadyExistsException" failed the restart).
                client.exceptions  # noqa: B018
                self._clients[service] = client
            return self._clients[service]

    @property
    def s3(self) -> Any:
        return self.client("s3")

    @property
    def logs(self) -> Any:
        return self.client("logs")

    @property
    def sagemaker(self) -> Any:
        return self.client("sagemaker")
