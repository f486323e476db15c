"""CacheConfig: a step whose resolved arguments equal those of an earlier successful run of
the same pipeline step, within ExpireAfter, is not run again."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .errors import StepFailure
from .steps.runtime import StepOutcome

_DURATION = re.compile(
    r"^P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$",
    re.IGNORECASE,
)


def parse_expire_after(text: str | None) -> timedelta | None:
    """ISO 8601 durations as CacheConfig accepts them: PT1H, P30D, P1W, P1Y2M..."""
    if not text:
        return None
    match = _DURATION.match(text.strip())
    if not match or not any(match.groupdict().values()):
        raise StepFailure(f"CacheConfig ExpireAfter {text!r} is not an ISO 8601 duration (e.g. PT1H, P30D)")
    parts = {key: int(value) for key, value in match.groupdict().items() if value}
    days = parts.get("days", 0) + 7 * parts.get("weeks", 0) + 30 * parts.get("months", 0) + 365 * parts.get("years", 0)
    return timedelta(days=days, hours=parts.get("hours", 0), minutes=parts.get("minutes", 0), seconds=parts.get("seconds", 0))


@dataclass
class CacheEntry:
    finished: datetime
    execution_arn: str
    outcome: StepOutcome


class StepCache:
    def __init__(self) -> None:
        self._entries: dict[str, list[CacheEntry]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(pipeline: str, step: str, step_type: str, arguments: Any) -> str:
        canonical = json.dumps([pipeline, step, step_type, arguments], sort_keys=True, default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def lookup(self, key: str, expire_after: timedelta | None, at: datetime) -> CacheEntry | None:
        with self._lock:
            for entry in reversed(self._entries.get(key, [])):
                if expire_after is None or at - entry.finished <= expire_after:
                    return entry
        return None

    def store(self, key: str, entry: CacheEntry) -> None:
        with self._lock:
            self._entries.setdefault(key, []).append(entry)
