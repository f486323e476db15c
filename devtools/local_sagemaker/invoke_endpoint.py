"""sagemaker-runtime InvokeEndpoint, answered by the endpoint's model servers instead of moto's canned text.

The request goes to the SageMaker backend of the same account and region (hosting.py), which
routes it to a variant instance; the container's answer comes back as AWS sends it: the body,
its Content-Type and `x-Amzn-Invoked-Production-Variant` (CustomAttributes go to the container).
What AWS refuses is refused the same way: a payload over 6 MB (413, "HTTP content length exceeded
6291456 bytes."), an unknown endpoint or one not in service (`ValidationError`), an unknown
`TargetVariant`; what the model refuses or fails on is `ModelError` (HTTP 424) with
`OriginalStatusCode`, `OriginalMessage` and `LogStreamArn`. Async and streaming invocations are
refused as not implemented.
"""

from __future__ import annotations

import importlib
import json
from typing import Any
from urllib.parse import unquote

from moto.core.common_types import TYPE_RESPONSE
from moto.sagemaker.models import sagemaker_backends
from moto.sagemakerruntime import models as moto_runtime
from moto.sagemakerruntime.models import SageMakerRuntimeBackend
from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

from .engine.hosting.serving_errors import InvocationRefused, ModelFailure

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # InvokeEndpoint's documented limit for a request body
FORWARDED_HEADERS = ("Content-Type", "Accept", "X-Amzn-SageMaker-Custom-Attributes")


class LocalSageMakerRuntimeBackend(SageMakerRuntimeBackend):
    @property
    def _url_module(self) -> Any:
        return importlib.import_module(f"{__package__}.invoke_endpoint_urls")


class LocalSageMakerRuntimeResponse(SageMakerRuntimeResponse):
    use_raw_body = True  # payloads are bytes (NPY, images...), never decoded as text

    def invoke_endpoint(self) -> TYPE_RESPONSE:
        endpoint_name = unquote(self.path.split("/")[2])
        body: bytes = self.raw_body or b""
        if len(body) > MAX_PAYLOAD_BYTES:
            return _error(413, None, f"HTTP content length exceeded {MAX_PAYLOAD_BYTES} bytes.")
        headers = {name: self.headers[name] for name in FORWARDED_HEADERS if self.headers.get(name)}
        headers.setdefault("Content-Type", "application/octet-stream")
        backend = sagemaker_backends[self.current_account][self.region]
        try:
            answer = backend.invoke_local_endpoint(  # type: ignore[attr-defined]
                endpoint_name, body, headers, self.headers.get("X-Amzn-SageMaker-Target-Variant"))
        except InvocationRefused as refused:
            return _error(400, "ValidationError", str(refused))
        except ModelFailure as failed:
            extra: dict[str, Any] = {"OriginalMessage": failed.original_message, "LogStreamArn": failed.log_stream_arn}
            if failed.original_status:
                extra["OriginalStatusCode"] = failed.original_status
            return _error(424, "ModelError", str(failed), extra)
        response_headers = {"status": "200", "Content-Type": answer.content_type,
                            "x-Amzn-Invoked-Production-Variant": answer.variant}
        return 200, response_headers, answer.body

    def invoke_endpoint_async(self) -> TYPE_RESPONSE:
        raise NotImplementedError("InvokeEndpointAsync: the local endpoint serves real-time invocations only")

    def invoke_endpoint_with_response_stream(self) -> TYPE_RESPONSE:
        raise NotImplementedError("InvokeEndpointWithResponseStream: the local endpoint answers whole responses only")


def _error(status: int, code: str | None, message: str, extra: dict[str, Any] | None = None) -> TYPE_RESPONSE:
    """AWS's rest-json error; without a code (the 413 of an oversize body) botocore names it by its status."""
    body: dict[str, Any] = {"message": message, **(extra or {})}
    headers = {"status": str(status), "Content-Type": "application/json"}  # moto takes the status from "status"
    if code:
        body["__type"] = code
        body["Message"] = message
        headers["x-amzn-ErrorType"] = code
    return status, headers, json.dumps(body)


def install_runtime() -> None:
    """Make moto build SageMaker Runtime backends from LocalSageMakerRuntimeBackend."""
    backends = moto_runtime.sagemakerruntime_backends
    if backends.backend is not LocalSageMakerRuntimeBackend:
        backends.backend = LocalSageMakerRuntimeBackend
        backends.clear()
