"""Where and how a pipeline's approved model is served: the endpoint keys of its settings Variable.

The keys live in the same JSON Variable as the pipeline's settings (deployment_settings.py accepts
them when the declaration has a [deploy] section); each has a default, and a bad value is refused
naming the key and what is allowed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from .declarations import PipelineDeclaration

# At most 40: its models and configs are named after it (`<endpoint>-v<version>-<digest>`, 63 at most), so that
# an IAM policy can name them (`model/<endpoint>-v*`).
ENDPOINT_NAME_MAX = 40
_ENDPOINT_NAME = re.compile(rf"^[a-zA-Z0-9](-*[a-zA-Z0-9]){{0,{ENDPOINT_NAME_MAX - 1}}}$")
_INSTANCE_TYPE = re.compile(r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
_KEY_PREFIX = re.compile(r"^[A-Za-z0-9_.=-]+(/[A-Za-z0-9_.=-]+)*$")
ENDPOINT_KEYS = ("endpoint_name", "endpoint_instance_type", "endpoint_instance_count", "smoke_test_tolerance",
                 "smoke_test_p50_ms", "data_capture_percent", "data_capture_prefix")


class EndpointSettings(NamedTuple):
    name: str
    instance_type: str
    instance_count: int
    tolerance: float  # how far the smoke test's metric may be from the package's, in the metric's units
    p50_ms: float  # the smoke test's budget for the median invocation latency
    capture_percent: float = 0  # of the endpoint's requests and answers SageMaker captures (0: none)
    capture_prefix: str = "data-capture"  # under the bucket: s3://<bucket>/<prefix>/<endpoint>/<variant>/yyyy/mm/dd/hh/

    def data_capture(self, bucket: str) -> dict[str, Any] | None:
        """The endpoint config's DataCaptureConfig (requests and answers, CSV), or None when capture is off."""
        if not self.capture_percent:
            return None
        return {"EnableCapture": True, "InitialSamplingPercentage": int(self.capture_percent),
                "DestinationS3Uri": f"s3://{bucket}/{self.capture_prefix}",
                "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
                "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"]}}


def endpoint_settings(values: Mapping[str, Any], source: str, declaration: PipelineDeclaration) -> EndpointSettings:
    """The endpoint keys of `values` (the settings Variable, parsed), with their defaults; errors name `source`."""
    default = f"{values.get('pipeline_name', declaration.name)}-endpoint"[:ENDPOINT_NAME_MAX].rstrip("-")
    name = values.get("endpoint_name", default)
    settings = EndpointSettings(
        name=name,
        instance_type=values.get("endpoint_instance_type", "ml.m5.large"),
        instance_count=values.get("endpoint_instance_count", 1),
        tolerance=values.get("smoke_test_tolerance", 0.05 if declaration.metric.fraction else
                             max(abs(declaration.metric.threshold) * 0.1, 1e-9)),
        p50_ms=values.get("smoke_test_p50_ms", 500),
        capture_percent=values.get("data_capture_percent", 0),
        capture_prefix=values.get("data_capture_prefix", "data-capture"),
    )
    checks = [
        ("endpoint_name", isinstance(name, str) and bool(_ENDPOINT_NAME.match(name)),
         f"an endpoint name: letters, digits and hyphens, at most {ENDPOINT_NAME_MAX}"),
        ("endpoint_instance_type", isinstance(settings.instance_type, str)
         and bool(_INSTANCE_TYPE.match(settings.instance_type)), "an ml.* instance type such as ml.m5.large"),
        ("endpoint_instance_count", is_number(settings.instance_count, whole=True) and settings.instance_count >= 1,
         "a whole number, 1 or more"),
        ("smoke_test_tolerance", is_number(settings.tolerance) and settings.tolerance >= 0,
         f"a difference of {declaration.metric.name.upper()}, 0 or more"),
        ("smoke_test_p50_ms", is_number(settings.p50_ms) and settings.p50_ms > 0, "milliseconds, more than 0"),
        ("data_capture_percent", is_number(settings.capture_percent, whole=True) and 0 <= settings.capture_percent <= 100,
         "the whole percentage of requests captured, 0 (none) to 100"),
        ("data_capture_prefix", isinstance(settings.capture_prefix, str) and bool(_KEY_PREFIX.match(settings.capture_prefix)),
         "an S3 key prefix such as data-capture (no leading or trailing /)"),
    ]
    for key, valid, allowed in checks:
        if not valid:
            raise ValueError(f"{source}: {key}={values.get(key)!r} is invalid: expected {allowed}")
    return settings._replace(tolerance=float(settings.tolerance), p50_ms=float(settings.p50_ms))


def is_number(value: object, whole: bool = False) -> bool:
    kinds = (int,) if whole else (int, float)
    return isinstance(value, kinds) and not isinstance(value, bool)
