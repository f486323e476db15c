"""CacheConfig: a step whose cache key attributes equal those of an earlier successful run of
the same pipeline step, within ExpireAfter, is not run again; its outcome is reused.

The key holds only the attributes SageMaker compares for the step type (steps.RUNNERS'
cache_key_fields), so an output path that changes with each execution still hits, as on AWS.
ExpireAfter takes every form AWS's "Turn on step caching" page documents: `30d`, `5y`, `T16m`,
`30dT5h`, with or without the leading `P` (ISO 8601: `P30D`, `PT1H`, `P1W`, `P4DT12H`).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .errors import DefinitionError
from .outcome import StepOutcome

# Date part: years, months, weeks, days; after T: hours, minutes, seconds. Case-insensitive, P optional.
_DURATION = re.compile(
    r"^P?(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$",
    re.IGNORECASE,
)


def parse_expire_after(text: str | None) -> timedelta | None:
    """`30d`, `5y`, `T16m`, `30dT5h`, `P30D`, `PT1H`...; raise DefinitionError naming the value."""
    if not text:
        return None
    value = str(text).strip()
    match = _DURATION.match(value)
    if not match or not any(match.groupdict().values()) or value.upper().endswith("T"):
        raise DefinitionError(
            f"CacheConfig ExpireAfter {text!r} is not an ISO 8601 duration: use a number and a unit letter "
            "(y, m, w, d; after T: h, m, s), e.g. 30d, 5y, T16m, 30dT5h, P30D, PT1H"
        )
    parts = {key: int(number) for key, number in match.groupdict().items() if number}
    days = parts.get("days", 0) + 7 * parts.get("weeks", 0) + 30 * parts.get("months", 0) + 365 * parts.get("years", 0)
    return timedelta(days=days, hours=parts.get("hours", 0), minutes=parts.get("minutes", 0),
                     seconds=parts.get("seconds", 0))


@dataclass
class CacheEntry:
    finished: datetime
    execution_arn: str
    outcome: StepOutcome


class StepCache:
    def __init__(self) -> None:
        self._entries: dict[str, list[CacheEntry]] = {}
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        """Saved with the endpoint's state: a step cached before a restart still hits after it."""
        with self._lock:
            return {"_entries": {key: list(entries) for key, entries in self._entries.items()}}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._entries = state["_entries"]
        self._lock = threading.Lock()

    @staticmethod
    def key(pipeline: str, step: str, step_type: str, attributes: Any) -> str:
        canonical = json.dumps([pipeline, step, step_type, attributes], sort_keys=True, default=str)
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
