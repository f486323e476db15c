"""Changes run side by side; a snapshot waits for the changes in flight and holds new ones back.

Requests that change moto's backends (and the engine's own changes to them) take the lock
shared: many at once, as moto serves them. A snapshot takes it exclusive, so it never pickles
a half-made change. Waiting snapshots go first (new shared holders wait behind them), so a
steady stream of requests cannot starve persistence; a thread that already holds the lock
shared may take it again (a request whose backend call makes the engine record a job), which
a plain writer-first lock would deadlock on.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class StateLock:
    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._shared = 0
        self._exclusive = False
        self._waiting_exclusive = 0
        self._held = threading.local()

    @contextmanager
    def shared(self) -> Iterator[None]:
        depth = getattr(self._held, "depth", 0)
        if depth == 0:
            with self._condition:
                while self._exclusive or self._waiting_exclusive:
                    self._condition.wait()
                self._shared += 1
        self._held.depth = depth + 1
        try:
            yield
        finally:
            self._held.depth = depth
            if depth == 0:
                with self._condition:
                    self._shared -= 1
                    if not self._shared:
                        self._condition.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._condition:
            self._waiting_exclusive += 1
            try:
                while self._exclusive or self._shared:
                    self._condition.wait()
            finally:
                self._waiting_exclusive -= 1
            self._exclusive = True
        try:
            yield
        finally:
            with self._condition:
                self._exclusive = False
                self._condition.notify_all()
