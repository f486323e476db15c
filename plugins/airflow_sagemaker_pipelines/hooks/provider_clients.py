"""The provider's S3 and SNS hooks (and SNS notifier) as this package uses them: with its standard retries."""

from __future__ import annotations

from functools import cached_property

from airflow.providers.amazon.aws.hooks.s3 import S3Hook as ProviderS3Hook
from airflow.providers.amazon.aws.hooks.sns import SnsHook as ProviderSnsHook
from airflow.providers.amazon.aws.notifications.sns import SnsNotifier as ProviderSnsNotifier

from .transient_errors import StandardRetries


class S3Hook(StandardRetries, ProviderS3Hook):
    """The provider's S3Hook, retrying as this package's hooks do."""


class SnsHook(StandardRetries, ProviderSnsHook):
    """The provider's SnsHook, for the notifier below."""


class SnsNotifier(ProviderSnsNotifier):
    """The provider's SNS notifier, publishing with the SnsHook above."""

    @cached_property
    def hook(self) -> SnsHook:
        return SnsHook(aws_conn_id=self.aws_conn_id, region_name=self.region_name)
