"""Which AWS errors pass by themselves, and the retry policy every hook of this package starts from.

botocore's "standard" retry mode retries connection errors, throttling and 5xx answers with
exponential backoff and jitter (up to 20 s apart). The hooks use it unless the task or the
connection says otherwise (their `botocore_config` / `config_kwargs` win), so one policy is
configured in one place. Beyond what one call retries, the sensor and its trigger keep polling
through an outage for a budget of minutes (`OutageClock`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

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
    """Mixed into every hook of this package, before the provider's class: standard retries by default.

    The one retry policy of the package: connections and deployments need not configure one."""

    @property
    def config(self) -> Config:
        return STANDARD_RETRIES.merge(super().config)  # type: ignore[misc]  # the task's or connection's wins


@dataclass(frozen=True)
class Outage:
    """How long the API has been unreachable, against the budget."""

    since: float  # epoch seconds of the first failed call
    seconds: float
    budget: float
    error: BaseException

    @property
    def exhausted(self) -> bool:
        return self.seconds >= self.budget

    def __str__(self) -> str:
        since = datetime.fromtimestamp(self.since, UTC).isoformat(timespec="seconds")
        return (f"the SageMaker API was unreachable since {since} ({self.seconds:.0f} s, budget "
                f"{self.budget:.0f} s): {self.error}")


class OutageClock:
    """Times an outage of the API across polls: the sensor's and the trigger's one budget rule."""

    def __init__(self, budget: float = DEFAULT_OUTAGE_BUDGET_SECONDS) -> None:
        self.budget = budget
        self._since: float | None = None

    def unreachable(self, error: BaseException) -> Outage:
        """A poll failed: the outage so far. An error that is not transient is re-raised as it is."""
        if not is_transient(error):
            raise error
        now = time.time()
        self._since = self._since or now
        return Outage(since=self._since, seconds=now - self._since, budget=self.budget, error=error)

    def reachable(self) -> float | None:
        """A poll succeeded: how long the outage it ends lasted, or None when there was none."""
        if self._since is None:
            return None
        seconds, self._since = time.time() - self._since, None
        return seconds
