"""What a deployment chooses: where the pipeline lives and what it runs on.

The compiled definition (compiled/, made by `make pipelines`) holds these as placeholders and
parameter defaults: `template_values` and `parameter_defaults` are what the upsert fills in, and
what the pipeline's SDK source (definition.py) builds with, so the two cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from airflow.providers.amazon.aws.utils.sagemaker import ApprovalStatus

from . import contract

_ROLE_ARN = re.compile(r"^arn:aws[a-z\-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
_PIPELINE_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$")
_INSTANCE_TYPE = re.compile(r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_PREFIX = re.compile(r"^[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)*/?$")


@dataclass(frozen=True)
class PipelineSettings:
    region: str
    role_arn: str
    bucket: str
    pipeline_name: str = contract.PIPELINE_NAME
    model_package_group: str = contract.MODEL_PACKAGE_GROUP
    prefix: str = "pipeline"
    processing_instance_type: str = "ml.m5.xlarge"
    evaluation_instance_type: str = "ml.m5.large"
    training_instance_type: str = "ml.m5.xlarge"
    min_auc_threshold: float = contract.DEFAULT_MIN_AUC_THRESHOLD
    model_approval_status: str = ApprovalStatus.PENDING_MANUAL_APPROVAL.value

    def __post_init__(self) -> None:
        checks = [
            ("region", _REGION, self.region, "an AWS region such as us-east-1"),
            ("role_arn", _ROLE_ARN, self.role_arn, "an IAM role ARN, arn:aws:iam::<account>:role/<name>"),
            ("bucket", _BUCKET, self.bucket, "an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)"),
            ("pipeline_name", _PIPELINE_NAME, self.pipeline_name, "letters, digits and hyphens, at most 256"),
            ("model_package_group", _PIPELINE_NAME, self.model_package_group, "letters, digits and hyphens"),
            ("prefix", _PREFIX, self.prefix, "an S3 key prefix: letters, digits and - _ . / (no leading /)"),
        ]
        for field_name in ("processing_instance_type", "evaluation_instance_type", "training_instance_type"):
            checks.append((field_name, _INSTANCE_TYPE, getattr(self, field_name), "an ml.* instance type such as ml.m5.xlarge"))
        for field_name, pattern, value, allowed in checks:
            if not isinstance(value, str) or not pattern.match(value):
                raise ValueError(f"PipelineSettings.{field_name}={value!r} is invalid: expected {allowed}")
        if not 0.0 <= float(self.min_auc_threshold) <= 1.0:
            raise ValueError(f"PipelineSettings.min_auc_threshold={self.min_auc_threshold!r} must be between 0 and 1")
        if self.model_approval_status not in APPROVAL_STATUSES:
            raise ValueError(
                f"PipelineSettings.model_approval_status={self.model_approval_status!r}; "
                f"allowed: {', '.join(APPROVAL_STATUSES)}"
            )

    def s3_uri(self, *parts: str) -> str:
        return "/".join([f"s3://{self.bucket}", self.prefix.strip("/"), *(p.strip("/") for p in parts)])

    def template_values(self) -> dict[str, str]:
        """The compiled definition's placeholders (`${name}` in its strings) and their values."""
        return {"region": self.region, "bucket": self.bucket, "prefix": self.prefix.strip("/"),
                "role_arn": self.role_arn, "model_package_group": self.model_package_group}

    def parameter_defaults(self) -> dict[str, str | float]:
        """The pipeline parameters whose default values the deployment chooses."""
        return {
            contract.PROCESSING_INSTANCE_TYPE: self.processing_instance_type,
            contract.EVALUATION_INSTANCE_TYPE: self.evaluation_instance_type,
            contract.TRAINING_INSTANCE_TYPE: self.training_instance_type,
            contract.MIN_AUC_THRESHOLD: float(self.min_auc_threshold),
            contract.MODEL_APPROVAL_STATUS: self.model_approval_status,
        }


APPROVAL_STATUSES = tuple(status.value for status in ApprovalStatus)


def settings_from_mapping(values: object, region: str, source: str = "settings") -> PipelineSettings:
    """PipelineSettings from a JSON-like mapping (an Airflow Variable, say); errors name `source`."""
    from dataclasses import fields

    if not isinstance(values, dict):
        raise ValueError(f"{source} must be a JSON object with at least bucket and role_arn, got {values!r}")
    allowed = {f.name for f in fields(PipelineSettings)} - {"region"}
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise ValueError(f"{source} has unknown keys {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
    missing = [name for name in ("bucket", "role_arn") if name not in values]
    if missing:
        raise ValueError(f"{source} lacks {', '.join(missing)}")
    try:
        return PipelineSettings(region=region, **values)
    except ValueError as error:
        raise ValueError(f"{source}: {error}") from None
