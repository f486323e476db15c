"""The phases of `make run` with their wall times, printed at the end so its fixed costs stay visible."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import psutil

T = TypeVar("T")


class RunPhases:
    """Wall time per phase; phases may run in parallel threads, the total is the process's own."""

    def __init__(self) -> None:
        # From the interpreter's start: its imports are the first fixed cost of a run.
        self.process_started = psutil.Process().create_time()
        self.rows: list[tuple[str, float, str]] = [("environment check", time.time() - self.process_started,
                                                    "Python start and imports (make checked .venv against the lock)")]
        self._lock = threading.Lock()

    @contextmanager
    def timed(self, name: str, note: str = "") -> Iterator[None]:
        """A phase, listed where it started (parts added while it runs come after it)."""
        row, started = self.add(name, 0.0, note), time.perf_counter()
        try:
            yield
        finally:
            self.rows[row] = (name, time.perf_counter() - started, note)

    def call(self, name: str, function: Callable[..., T], *args: Any, note: Callable[[T], str] = str) -> T:
        """function(*args), timed as a phase whose note is made from its result."""
        row, started = self.add(name, 0.0), time.perf_counter()
        result = function(*args)
        self.rows[row] = (name, time.perf_counter() - started, note(result))
        return result

    def add(self, name: str, seconds: float, note: str = "") -> int:
        with self._lock:
            self.rows.append((name, seconds, note))
            return len(self.rows) - 1

    def report(self, execution_seconds: float | None) -> str:
        total = time.time() - self.process_started
        lines = ["Phases (wall time)"]
        lines += [f"  {name:<20} {seconds:6.1f} s  {note}".rstrip() for name, seconds, note in self.rows]
        lines.append(f"  {'total':<20} {total:6.1f} s")
        if execution_seconds:
            lines.append(f"  {'pipeline execution':<20} {execution_seconds:6.1f} s  its own wall time (created to "
                         f"last step ended); the run took {total / execution_seconds:.1f}x that")
        return "\n".join(lines)
