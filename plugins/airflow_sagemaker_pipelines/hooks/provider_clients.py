"""The provider's S3 and SNS hooks (and SNS notifier) as this package uses them: standard retries, shared models.

Reading a partition or an evaluation report and publishing the run's notification made each task
parse S3's or SNS's model and botocore's endpoint data again: 8% of the CPU of the in-process DAG
runs (py-spy over tests/e2e/test_training_dag.py; their CPU fell 6%). With the shared loader, each is
parsed once per process, and not at all in a task forked from a process that preloaded them
(task_preload.py).
"""

from __future__ import annotations

from functools import cached_property

from airflow.providers.amazon.aws.hooks.s3 import S3Hook as ProviderS3Hook
from airflow.providers.amazon.aws.hooks.sns import SnsHook as ProviderSnsHook
from airflow.providers.amazon.aws.notifications.sns import SnsNotifier as ProviderSnsNotifier

from .defaults import HookDefaults


class S3Hook(HookDefaults, ProviderS3Hook):
    """The provider's S3Hook; its clients and resources are made on the shared loader."""


class SnsHook(HookDefaults, ProviderSnsHook):
    """The provider's SnsHook, for the notifier below."""


class SnsNotifier(ProviderSnsNotifier):
    """The provider's SNS notifier, publishing with the SnsHook above."""

    @cached_property
    def hook(self) -> SnsHook:
        return SnsHook(aws_conn_id=self.aws_conn_id, region_name=self.region_name)
