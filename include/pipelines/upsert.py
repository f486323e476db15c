"""Create the pipeline, or update it only when its definition changed.

Scripts are uploaded under a content-hash prefix (`<prefix>/code/<sha256[:16]>/`), so a
definition changes exactly when a script or the pipeline's shape changes, and an unchanged
pipeline costs no UpdatePipeline call, nor, once built on this machine, an SDK import
(definition_cache.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from .definition_cache import cached_definition
from .settings import PipelineSettings, settings_from_mapping

SCRIPTS_DIR = Path(__file__).parent / "scripts"
SCRIPTS = ("preprocess.py", "evaluate.py")


@dataclass(frozen=True)
class UpsertResult:
    pipeline_arn: str
    action: str  # "created" | "updated" | "unchanged"
    definition: str

    @property
    def version(self) -> str:
        """A digest of the definition: equal exactly when the pipeline (scripts included) is the same."""
        return definition_version(self.definition)


def definition_version(definition: str) -> str:
    canonical = json.dumps(json.loads(definition), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def scripts_hash() -> str:
    digest = hashlib.sha256()
    for name in SCRIPTS:
        digest.update(name.encode() + b"\0" + (SCRIPTS_DIR / name).read_bytes())
    return digest.hexdigest()[:16]


def code_uris(settings: PipelineSettings) -> dict[str, str]:
    folder = settings.s3_uri("code", scripts_hash())
    return {name: f"{folder}/{name}" for name in SCRIPTS}


def upload_scripts(s3: Any, settings: PipelineSettings) -> dict[str, str]:
    """Upload the scripts once per content hash; an existing object is left as it is."""
    uris = code_uris(settings)
    for name, uri in uris.items():
        key = uri.split(f"s3://{settings.bucket}/", 1)[1]
        try:
            s3.head_object(Bucket=settings.bucket, Key=key)
        except ClientError:
            s3.upload_file(str(SCRIPTS_DIR / name), settings.bucket, key)
    return uris


def build_definition(settings: PipelineSettings, session: Any) -> str:
    """The pipeline definition JSON (the SDK is imported here, not at module level)."""
    from .definition import build_pipeline
    from .sdk_session import pipeline_session

    return build_pipeline(settings, pipeline_session(session, settings.bucket), code_uris(settings)).definition()


def upsert_pipeline(session: Any, settings: PipelineSettings, description: str = "") -> UpsertResult:
    """`session` is a boto3 session whose clients reach SageMaker (see sdk_session.boto3_session).

    Safe to run from concurrent DAG runs: when another run creates the pipeline between our
    describe and our create, the create's "already exists" sends us down the update path.
    """
    uris = upload_scripts(session.client("s3"), settings)
    definition = cached_definition(settings, uris, lambda: build_definition(settings, session))
    sagemaker = session.client("sagemaker")
    try:
        current = sagemaker.describe_pipeline(PipelineName=settings.pipeline_name)
    except ClientError as error:
        if not _is_not_found(error):
            raise
        try:
            arn = sagemaker.create_pipeline(
                PipelineName=settings.pipeline_name,
                PipelineDefinition=definition,
                PipelineDescription=description,
                RoleArn=settings.role_arn,
            )["PipelineArn"]
            return UpsertResult(arn, "created", definition)
        except ClientError as create_error:
            if not _already_exists(create_error):
                raise
            current = sagemaker.describe_pipeline(PipelineName=settings.pipeline_name)
    if json.loads(current["PipelineDefinition"]) == json.loads(definition) and current.get("RoleArn") == settings.role_arn:
        return UpsertResult(current["PipelineArn"], "unchanged", definition)
    arn = sagemaker.update_pipeline(
        PipelineName=settings.pipeline_name,
        PipelineDefinition=definition,
        PipelineDescription=description,
        RoleArn=settings.role_arn,
    )["PipelineArn"]
    return UpsertResult(arn, "updated", definition)


def _already_exists(error: ClientError) -> bool:
    code = error.response.get("Error", {}).get("Code", "")
    message = error.response.get("Error", {}).get("Message", "")
    return code == "ResourceInUse" or (code == "ValidationException" and "already exists" in message)


def _is_not_found(error: ClientError) -> bool:
    code = error.response.get("Error", {}).get("Code", "")
    message = error.response.get("Error", {}).get("Message", "")
    return code in ("ResourceNotFound", "ResourceNotFoundException") or (
        code == "ValidationException" and ("does not exist" in message or "Could not find" in message)
    )


def upsert_from_settings(session: Any, values: Mapping[str, Any], source: str) -> dict[str, str]:
    """Settings from a JSON mapping (an Airflow Variable), then the upsert: what UpsertPipelineOperator calls.

    A bad setting is a ValueError naming `source` and the key; nothing is created or updated then.
    """
    settings = settings_from_mapping(values, session.region_name, source)
    result = upsert_pipeline(session, settings)
    return {
        "pipeline_name": settings.pipeline_name,
        "pipeline_arn": result.pipeline_arn,
        "pipeline_version": result.version,
        "action": result.action,
        "bucket": settings.bucket,
        "model_package_group": settings.model_package_group,
        "region": settings.region,
    }
