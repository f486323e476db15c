"""Which AWS errors pass by themselves, and the retry policy every hook of this package starts from.

botocore's "standard" retry mode retries connection errors, throttling and 5xx answers with
exponential backoff and jitter (up to 20 s apart). The hooks use it unless the task or the
connection says otherwise (their `botocore_config` / `config_kwargs` win), so one policy is
configured in one place. Beyond what one call retries, the trigger keeps polling through an
outage for a budget of minutes (triggers/pipeline_execution.py).
"""

from __future__ import annotations

from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

# How long the waiting task keeps polling an unreachable API before it gives up (retryably).
DEFAULT_OUTAGE_BUDGET_SECONDS = 300.0
STANDARD_RETRIES = Config(retries={"mode": "standard", "max_attempts": 10}, connect_timeout=10, read_timeout=60)

_THROTTLING = frozenset({"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
                         "TooManyRequestsException", "RequestLimitExceeded", "SlowDown"})
_SERVER_SIDE = frozenset({"InternalFailure", "InternalServerError", "InternalError", "ServiceUnavailable",
                          "ServiceUnavailableException"})


def is_transient(error: BaseException) -> bool:
    """A connection that failed or timed out, throttling, or a server-side error: worth trying again."""
    if isinstance(error, (EndpointConnectionError, ConnectionClosedError, ConnectTimeoutError, ReadTimeoutError)):
        return True
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return code in _THROTTLING or code in _SERVER_SIDE or status >= 500
    return isinstance(error, (ConnectionError, TimeoutError))


class StandardRetries:
    """Mixed into this package's hooks, before the provider's class: standard retries by default."""

    @property
    def config(self) -> Config:
        return STANDARD_RETRIES.merge(super().config)  # type: ignore[misc]  # the task's or connection's wins
