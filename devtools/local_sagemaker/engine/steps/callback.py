"""Callback steps: the pipeline hands a token to an SQS queue and waits for someone to answer it.

As SageMaker does it: the step sends `{"token": ..., "arguments": {...}, "status": "Executing"}`
to the step's `SqsQueueUrl`, lists its token in the step's Metadata (`Callback.CallbackToken`),
and stays Executing — with no process, only a waiting thread — until
SendPipelineExecutionStepSuccess (with OutputParameters, which later steps read as
`Steps.<name>.OutputParameters['<output>']`) or SendPipelineExecutionStepFailure names its token,
or the execution is stopped.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

from ..errors import StepFailure, StepStopped
from ..outcome import StepOutcome
from .step_runtime import StepRuntime

_POLL_SECONDS = 0.5  # how often a waiting step looks at the execution's stop signal


@dataclass
class _Waiter:
    execution_arn: str
    outputs: tuple[str, ...]
    answered: threading.Event = field(default_factory=threading.Event)
    output_parameters: dict[str, str] = field(default_factory=dict)
    failure_reason: str | None = None


class CallbackTokens:
    """The tokens of the Callback steps waiting now, in this endpoint process."""

    def __init__(self) -> None:
        self._waiters: dict[str, _Waiter] = {}
        self._lock = threading.Lock()

    def open(self, execution_arn: str, outputs: tuple[str, ...]) -> tuple[str, _Waiter]:
        token = secrets.token_hex(16)
        waiter = _Waiter(execution_arn, outputs)
        with self._lock:
            self._waiters[token] = waiter
        return token, waiter

    def close(self, token: str) -> None:
        with self._lock:
            self._waiters.pop(token, None)

    def succeed(self, token: str, output_parameters: list[dict[str, str]]) -> str:
        """Ends the step with these outputs; returns its execution's ARN. Unknown outputs are refused."""
        waiter = self._waiting(token)
        given = {item["Name"]: item["Value"] for item in output_parameters or []}
        unknown = sorted(set(given) - set(waiter.outputs))
        if unknown:
            raise ValueError(f"OutputParameters {unknown} are not outputs of the step; its outputs: "
                             f"{list(waiter.outputs)}")
        waiter.output_parameters = given
        waiter.answered.set()
        return waiter.execution_arn

    def fail(self, token: str, failure_reason: str | None) -> str:
        waiter = self._waiting(token)
        waiter.failure_reason = failure_reason or "The callback step was failed by SendPipelineExecutionStepFailure"
        waiter.answered.set()
        return waiter.execution_arn

    def _waiting(self, token: str) -> _Waiter:
        with self._lock:
            waiter = self._waiters.get(token)
        if waiter is None or waiter.answered.is_set():
            raise LookupError(f"CallbackToken {token!r} is not the token of a waiting callback step")
        return waiter


callback_tokens = CallbackTokens()


def run_callback_step(runtime: StepRuntime) -> StepOutcome:
    queue_url = runtime.step.raw.get("SqsQueueUrl")
    if not queue_url:
        raise StepFailure(f"Callback step {runtime.step.name} has no SqsQueueUrl")
    outputs = tuple(item["OutputName"] for item in runtime.step.raw.get("OutputParameters") or [])
    token, waiter = callback_tokens.open(runtime.execution_arn, outputs)
    try:
        message = {"token": token, "arguments": runtime.arguments(), "status": "Executing"}
        try:
            runtime.context.clients.client("sqs").send_message(QueueUrl=queue_url, MessageBody=json.dumps(message))
        except Exception as error:
            raise StepFailure(f"Could not send the callback message to {queue_url}: {error}") from None
        metadata: dict[str, Any] = {"CallbackToken": token, "SqsQueueUrl": queue_url}
        runtime.report_metadata({"Callback": metadata})
        while not waiter.answered.wait(_POLL_SECONDS):
            if runtime.stop_requested.is_set():
                raise StepStopped(runtime.step.name)
        if waiter.failure_reason is not None:
            raise StepFailure(waiter.failure_reason)
        listed = [{"Name": name, "Value": value} for name, value in waiter.output_parameters.items()]
        return StepOutcome({"OutputParameters": dict(waiter.output_parameters)},
                           {"Callback": {**metadata, "OutputParameters": listed}})
    finally:
        callback_tokens.close(token)
