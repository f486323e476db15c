"""What a deployment chooses for a declared pipeline: where it lives and what its parameters default to.

The settings are a JSON Airflow Variable (the declaration names it): `bucket` and `role_arn`
(required), `prefix`, `pipeline_name` and `model_package_group` (the declaration's by default),
and one key per `[settings.<key>]` of the declaration, each setting a pipeline parameter's default.
A compiled definition holds the first ones as placeholders (`template_values`) and the parameters'
defaults as the compile's (`parameter_defaults`): the upsert fills both in, and the pipeline's SDK
source builds with the same object, so the two cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .declarations import PipelineDeclaration
from .endpoint_settings import ENDPOINT_KEYS
from .payloads import PipelineDeployment
from .scoring_settings import SCORING_KEYS

_ROLE_ARN = re.compile(r"^arn:aws[a-z\-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_PREFIX = re.compile(r"^[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)*/?$")
_COMMON = ("bucket", "role_arn", "prefix", "pipeline_name", "model_package_group")


@dataclass(frozen=True)
class PipelineSettings:
    """One deployment of one pipeline; every value checked when made, errors naming the field."""

    region: str
    role_arn: str
    bucket: str
    pipeline_name: str
    model_package_group: str
    prefix: str = "pipeline"
    parameters: Mapping[str, Any] = field(default_factory=dict)  # pipeline parameter -> its default

    def __post_init__(self) -> None:
        checks = [
            ("region", _REGION, self.region, "an AWS region such as us-east-1"),
            ("role_arn", _ROLE_ARN, self.role_arn, "an IAM role ARN, arn:aws:iam::<account>:role/<name>"),
            ("bucket", _BUCKET, self.bucket, "an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)"),
            ("pipeline_name", _NAME, self.pipeline_name, "letters, digits and hyphens, at most 256"),
            ("model_package_group", _NAME, self.model_package_group, "letters, digits and hyphens"),
            ("prefix", _PREFIX, self.prefix, "an S3 key prefix: letters, digits and - _ . / (no leading /)"),
        ]
        for name, pattern, value, allowed in checks:
            if not isinstance(value, str) or not pattern.match(value):
                raise ValueError(f"PipelineSettings.{name}={value!r} is invalid: expected {allowed}")

    def s3_uri(self, *parts: str) -> str:
        return "/".join([f"s3://{self.bucket}", self.prefix.strip("/"), *(p.strip("/") for p in parts)])

    def template_values(self) -> dict[str, str]:
        """The compiled definition's placeholders (`${name}` in its strings) and their values."""
        return {"region": self.region, "bucket": self.bucket, "prefix": self.prefix.strip("/"),
                "role_arn": self.role_arn, "model_package_group": self.model_package_group}

    def parameter_defaults(self) -> dict[str, Any]:
        """The pipeline parameters whose default values the deployment chooses."""
        return dict(self.parameters)


def read_settings_variable(key: str) -> tuple[Any, str]:
    """The settings Variable, parsed (Airflow would call bad JSON "not set"), and how errors name it;
    a ValueError when it is unset or not JSON."""
    import json

    from airflow.sdk import Variable

    source = f"Airflow Variable {key}"
    text = Variable.get(key, default=None)
    if text is None:
        raise ValueError(f"{source} is not set: give it a JSON object such as "
                         '{"bucket": "my-ml-bucket", "role_arn": "arn:aws:iam::123456789012:role/SageMakerPipelineRole"}')
    try:
        return json.loads(text), source
    except json.JSONDecodeError as error:
        raise ValueError(f"{source} is not valid JSON: {error}") from None


def settings_from_mapping(values: object, region: str, source: str,
                          declaration: PipelineDeclaration) -> PipelineSettings:
    """PipelineSettings from a JSON-like mapping (an Airflow Variable); errors name `source` and the key."""
    declared = {setting.key: setting for setting in declaration.settings}
    required = () if declaration.existing else ("bucket", "role_arn")
    if not isinstance(values, dict):
        raise ValueError(f"{source} must be a JSON object with at least {', '.join(required or ('bucket',))}, "
                         f"got {values!r}")
    allowed = {*_COMMON, *declared, *(ENDPOINT_KEYS if declaration.deploy else ()),
               *(SCORING_KEYS if declaration.scoring else ())}
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise ValueError(f"{source} has unknown keys {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
    missing = [name for name in (*required, "bucket") if name not in values]
    if missing:
        raise ValueError(f"{source} lacks {', '.join(dict.fromkeys(missing))}")
    parameters = {}
    for key, setting in declared.items():
        value = values.get(key, setting.default)
        if type(value) is not type(setting.default) and not (isinstance(setting.default, float)
                                                             and isinstance(value, int)
                                                             and not isinstance(value, bool)):
            raise ValueError(f"{source}: {key}={value!r} is invalid: expected a {type(setting.default).__name__} "
                             f"like its default {setting.default!r}")
        if setting.pattern and not re.match(setting.pattern, str(value)):
            raise ValueError(f"{source}: {key}={value!r} is invalid: expected "
                             f"{setting.allowed or f'a value matching {setting.pattern}'}")
        bounds = declaration.metric.range if setting.parameter == declaration.metric.parameter else None
        if bounds and not bounds[0] <= value <= bounds[1]:
            raise ValueError(f"{source}: {key}={value!r} is invalid: expected {declaration.metric.name.upper()} from "
                             f"{bounds[0]:g} to {bounds[1]:g}")
        parameters[setting.parameter] = float(value) if isinstance(setting.default, float) else value
    try:
        return PipelineSettings(
            region=region, role_arn=values.get("role_arn", "arn:aws:iam::000000000000:role/not-upserted"),
            bucket=values["bucket"], pipeline_name=values.get("pipeline_name", declaration.name),
            model_package_group=values.get("model_package_group", declaration.model_package_group),
            prefix=values.get("prefix", "pipeline"), parameters=parameters)
    except ValueError as error:
        raise ValueError(f"{source}: {error}") from None


def pipeline_deployment(declaration: PipelineDeclaration, values: Mapping[str, Any], region: str,
                        source: str) -> PipelineDeployment:
    """What UpsertPipelineOperator fills the compiled definition in with, from the deployment's settings."""
    settings = settings_from_mapping(values, region, source, declaration)
    return {
        "pipeline_name": settings.pipeline_name,
        "role_arn": settings.role_arn,
        "bucket": settings.bucket,
        "prefix": settings.prefix,
        "model_package_group": settings.model_package_group,
        "region": settings.region,
        "template_values": settings.template_values(),
        "parameter_defaults": settings.parameter_defaults(),
    }
