"""Every job the engine ran or runs, standalone or for a pipeline step, by kind and name.

Describe*Job reads the records; Stop*Job reaches the running job through `live()`. Names are
matched case-insensitively, as SageMaker does (job ARNs carry the name lowercased). A listener
(the backend) hears of each record's creation and of its end, to keep the job's trial
component in step; `on_change` of every change, to save it. Pickled, the store keeps its
records only: a running job does not survive its endpoint (interruption.py).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

JobListener = Callable[[str, dict[str, Any]], None]


def now() -> datetime:
    return datetime.now(UTC)


class JobStore:
    def __init__(self, listener: JobListener | None = None, on_change: Callable[[], None] | None = None) -> None:
        self._jobs: dict[tuple[str, str], dict[str, Any]] = {}
        self._live: dict[tuple[str, str], Any] = {}
        self._lock = threading.RLock()
        self._listener = listener
        self._on_change = on_change

    def __getstate__(self) -> dict[str, Any]:
        # A shallow copy is a consistent one: changes replace a record's values, never edit them in place.
        with self._lock:
            return {"jobs": {key: dict(record) for key, record in self._jobs.items()}}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__()  # type: ignore[misc]
        self._jobs = state["jobs"]

    def listen(self, listener: JobListener | None, on_change: Callable[[], None] | None) -> None:
        """Attach the backend's callbacks (a restored store has none)."""
        self._listener, self._on_change = listener, on_change

    def create(self, kind: str, name: str, record: dict[str, Any], live: Any) -> bool:
        """Add a new job; False when a job of that kind and name exists already."""
        with self._lock:
            if (kind, name.lower()) in self._jobs:
                return False
            self._jobs[(kind, name.lower())] = record
            self._live[(kind, name.lower())] = live
        self._notify(kind, name)
        return True

    def update(self, kind: str, name: str, **changes: Any) -> None:
        with self._lock:
            record = self._jobs[(kind, name.lower())]
            record.update({key: value for key, value in changes.items() if value is not None})
            record["LastModifiedTime"] = now()
        if self._on_change:
            self._on_change()

    def finish(self, kind: str, name: str, **changes: Any) -> None:
        """The job reached its terminal status: record it and let the listener know."""
        with self._lock:
            self.update(kind, name, **changes)
            self._live.pop((kind, name.lower()), None)
        self._notify(kind, name)

    def get(self, kind: str, name: str) -> dict[str, Any] | None:
        with self._lock:
            record = self._jobs.get((kind, name.lower()))
            return copy.deepcopy(record) if record else None

    def live(self, kind: str, name: str) -> Any:
        with self._lock:
            return self._live.get((kind, name.lower()))

    def all(self, kind: str) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(record) for (k, _), record in self._jobs.items() if k == kind]

    def running(self) -> list[Any]:
        with self._lock:
            return list(self._live.values())

    def _notify(self, kind: str, name: str) -> None:
        if self._on_change:
            self._on_change()
        if self._listener:
            record = self.get(kind, name)
            if record:
                self._listener(kind, record)
