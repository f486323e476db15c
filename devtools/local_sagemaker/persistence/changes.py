"""How the engine tells persistence about changes no request made (a step ended, a job's status).

moto builds the backends itself, so the engine cannot be handed the store: it reports here,
and the server attaches its StateStore while it runs. With no store attached (no --work-dir)
both calls do nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .store import StateStore


class StateChanges:
    def __init__(self) -> None:
        self._store: StateStore | None = None

    def attach(self, store: StateStore | None) -> None:
        self._store = store

    def changed(self, service: str) -> None:
        """`service`'s backend changed outside a request: snapshot it soon."""
        store = self._store
        if store is not None:
            store.changed({service})

    @contextmanager
    def changing(self) -> Iterator[None]:
        """Hold off snapshots while the engine changes moto's objects (a dict being pickled must not grow)."""
        store = self._store
        if store is None:
            yield
            return
        with store.lock.shared():
            yield


state_changes = StateChanges()
