"""A SageMaker SDK v3 PipelineSession that talks only to the endpoint it is given.

The SDK's traps, each handled here explicitly (docs/design.md):
- its clients follow the boto3 session; the endpoint URL is put into that session's config,
  so S3, SageMaker and STS clients made inside the SDK all reach the same endpoint;
- `ModelTrainer(role=...)` and `upsert` call IAM unless SAGEMAKER_VALIDATE_ROLE=false;
- every SDK call starts a telemetry thread that calls STS and an AWS host; the SDK's
  documented opt-out re-validates a JSON schema on every config lookup (+3 s), so the
  sender is replaced with a no-op instead;
- `default_bucket()` calls S3: the bucket is always given;
- ProcessingStep and TransformStep construct a LocalSagemakerClient (a new boto3 session that
  loads every service model again, ~0.4 s each) only to read a method's name; a stand-in with
  the same method names takes its place, which keeps a warm build well under a second;
- importing `sagemaker.mlops` creates boto3 clients: a region must be set, and without
  credentials boto3 would probe the instance metadata service, which is switched off;
- each image URI lookup parses botocore's endpoint data again: parsed once here.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import boto3
import botocore.session


def boto3_session(region: str, endpoint_url: str | None = None, credentials: Any = None) -> boto3.session.Session:
    """A boto3 session whose every client uses `endpoint_url` (None: the real AWS endpoints)."""
    core = botocore.session.Session()
    if credentials is not None:
        core.set_credentials(credentials.access_key, credentials.secret_key, credentials.token)
    if endpoint_url:
        profile = core.profile or "default"
        core.full_config["profiles"].setdefault(profile, {})["endpoint_url"] = endpoint_url
    return boto3.session.Session(botocore_session=core, region_name=region)


def disable_sdk_side_effects(region: str) -> None:
    """No IAM role validation, no metadata probe, no telemetry. Call before importing the SDK."""
    os.environ.setdefault("SAGEMAKER_VALIDATE_ROLE", "false")
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    os.environ.setdefault("AWS_DEFAULT_REGION", region)
    from sagemaker.core.telemetry import telemetry_logging

    telemetry_logging._send_telemetry_request = _no_telemetry
    from sagemaker.mlops.workflow import steps

    steps.LocalSagemakerClient = _LocalClientNames
    from sagemaker.core import common_utils

    # Every image lookup read botocore's endpoints.json again (0.2 s): the compiler looks up each
    # image in every region. The resolver only reads that file, so one serves them all.
    if not hasattr(common_utils._botocore_resolver, "cache_info"):
        common_utils._botocore_resolver = functools.cache(common_utils._botocore_resolver)


class _LocalClientNames:
    """Has the names of the local-mode client's job methods, and nothing else."""

    def create_processing_job(self) -> None: ...

    def create_transform_job(self) -> None: ...


def _no_telemetry(*_: Any, **__: Any) -> None:
    return None


def pipeline_session(session: boto3.session.Session, bucket: str) -> Any:
    """The SDK's PipelineSession over `session`, with the bucket given (no S3 lookup)."""
    disable_sdk_side_effects(session.region_name)
    from sagemaker.core.workflow.pipeline_context import PipelineSession

    sdk_session = PipelineSession(
        boto_session=session,
        sagemaker_client=session.client("sagemaker"),
        default_bucket=bucket,
    )
    # `default_bucket` is only a name override: default_bucket() would still check (and try to
    # create) the bucket in S3 while the definition is built. The bucket is given and exists.
    sdk_session._default_bucket = bucket
    return sdk_session

