"""DataCaptureConfig of CreateEndpointConfig: validated as SageMaker validates it, summarised as DescribeEndpoint shows it.

The limits are botocore's service model for `DataCaptureConfig` (sagemaker 2017-07-24):
InitialSamplingPercentage 0-100, DestinationS3Uri up to 512 characters matching
`(https|s3)://([^/])/?(.*)`, CaptureOptions 1-32 items of CaptureMode Input|Output|InputAndOutput,
CsvContentTypes/JsonContentTypes 1-10 items each matching the content type pattern, KmsKeyId up
to 2048 characters. A refusal is AWS's constraint wording ("1 validation error detected: Value
'150' at 'dataCaptureConfig.initialSamplingPercentage' failed to satisfy constraint: ..."), so the
field is named. botocore checks only some of these client-side (list minimums, not maximums).
"""

from __future__ import annotations

import re
from typing import Any

from moto.sagemaker.exceptions import ValidationError

CAPTURE_MODES = ("Input", "Output", "InputAndOutput")
_S3_URI = re.compile(r"(https|s3)://([^/])/?(.*)")
_CONTENT_TYPE = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9])*\/[a-zA-Z0-9](-*[a-zA-Z0-9.])*")
_KMS_KEY = re.compile(r"[a-zA-Z0-9:/_-]*")
_WHERE = "dataCaptureConfig"


def validate_data_capture_config(config: dict[str, Any] | None) -> None:
    """ValidationError listing every constraint `config` breaks (nothing when it is absent)."""
    if not config:
        return
    errors: list[str] = []
    _check_sampling(config.get("InitialSamplingPercentage"), errors)
    _check_destination(config.get("DestinationS3Uri"), errors)
    _check_options(config.get("CaptureOptions"), errors)
    _check_headers(config.get("CaptureContentTypeHeader"), errors)
    kms = config.get("KmsKeyId")
    if kms is not None and (len(str(kms)) > 2048 or not _KMS_KEY.fullmatch(str(kms))):
        errors.append(_violation(kms, "kmsKeyId", "Member must satisfy regular expression pattern: [a-zA-Z0-9:/_-]*"))
    if errors:
        count = f"{len(errors)} validation error{'s' if len(errors) > 1 else ''} detected: "
        raise ValidationError(count + "; ".join(errors))


def capture_summary(config: dict[str, Any] | None) -> dict[str, Any] | None:
    """DescribeEndpoint's DataCaptureConfigSummary of an endpoint config's DataCaptureConfig."""
    if not config:
        return None
    enabled = config.get("EnableCapture", True) is not False  # AWS: "defaults to enabled"
    return {
        "EnableCapture": enabled,
        "CaptureStatus": "Started" if enabled else "Stopped",
        "CurrentSamplingPercentage": int(config["InitialSamplingPercentage"]),
        "DestinationS3Uri": config["DestinationS3Uri"],
        # A required member of the summary: an absent key would make the response pruner drop the whole summary.
        "KmsKeyId": config.get("KmsKeyId") or "",
    }


def _check_sampling(value: Any, errors: list[str]) -> None:
    field = "initialSamplingPercentage"
    if value is None:
        errors.append(_violation(None, field, "Member must not be null"))
    elif isinstance(value, bool) or not isinstance(value, int):
        errors.append(_violation(value, field, "Member must be an integer"))
    elif value < 0:
        errors.append(_violation(value, field, "Member must have value greater than or equal to 0"))
    elif value > 100:
        errors.append(_violation(value, field, "Member must have value less than or equal to 100"))


def _check_destination(value: Any, errors: list[str]) -> None:
    field = "destinationS3Uri"
    if value is None:
        errors.append(_violation(None, field, "Member must not be null"))
    elif len(str(value)) > 512:
        errors.append(_violation(value, field, "Member must have length less than or equal to 512"))
    elif not _S3_URI.match(str(value)):
        errors.append(_violation(value, field, "Member must satisfy regular expression pattern: (https|s3)://([^/])/?(.*)"))


def _check_options(value: Any, errors: list[str]) -> None:
    field = "captureOptions"
    if value is None:
        errors.append(_violation(None, field, "Member must not be null"))
        return
    if len(value) < 1:
        errors.append(_violation(value, field, "Member must have length greater than or equal to 1"))
    elif len(value) > 32:
        errors.append(_violation(value, field, "Member must have length less than or equal to 32"))
    for index, option in enumerate(value, start=1):  # AWS numbers list members from 1
        mode = (option or {}).get("CaptureMode")
        where = f"{field}.{index}.member.captureMode"
        if mode is None:
            errors.append(_violation(None, where, "Member must not be null"))
        elif mode not in CAPTURE_MODES:
            errors.append(_violation(mode, where, f"Member must satisfy enum value set: [{', '.join(CAPTURE_MODES)}]"))


def _check_headers(value: Any, errors: list[str]) -> None:
    if value is None:
        return
    for key, field in (("CsvContentTypes", "csvContentTypes"), ("JsonContentTypes", "jsonContentTypes")):
        types = value.get(key)
        if types is None:
            continue
        where = f"captureContentTypeHeader.{field}"
        if not 1 <= len(types) <= 10:
            bound = "greater than or equal to 1" if not types else "less than or equal to 10"
            errors.append(_violation(types, where, f"Member must have length {bound}"))
        for content_type in types:
            if not 1 <= len(str(content_type)) <= 256 or not _CONTENT_TYPE.fullmatch(str(content_type)):
                errors.append(_violation(content_type, where, "Member must satisfy constraint: [Member must have length "
                                         "less than or equal to 256, Member must have length greater than or equal "
                                         f"to 1, Member must satisfy regular expression pattern: {_CONTENT_TYPE.pattern}]"))


def _violation(value: Any, field: str, constraint: str) -> str:
    shown = "null" if value is None else f"'{value}'"
    return f"Value {shown} at '{_WHERE}.{field}' failed to satisfy constraint: {constraint}"
