"""The endpoint's state on disk: one snapshot file per service, rewritten when the service changes.

A change (a request that changed a service, or the engine's progress) marks its services
dirty; one writer thread snapshots the dirty services under the exclusive StateLock, writes
new S3 bodies and then each service's file atomically. Changes that arrive while a snapshot is
written are coalesced into the next one, so concurrent requests share a write. A request waits
for the snapshot that covers it before it answers (`wait_saved`): what a client was told is
done is on disk, whenever the endpoint dies after that.

`restore()` reads every file before it changes anything: a file that cannot be read is a
StateFileError naming it, and the endpoint then starts nothing rather than start empty.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from moto.backends import get_backend

from .pickling import dumps, loads
from .s3_objects import S3Objects
from .state_file import SUFFIX, StateFileError, read_payload, remove_leftover_temporaries, write_atomically
from .state_lock import StateLock

# The services the endpoint serves for pipelines, their jobs and the DAGs; others are not saved.
PERSISTED_SERVICES = ("s3", "sagemaker", "sns", "sqs", "logs", "iam", "sts")
SAVE_TIMEOUT_SECONDS = 60.0
_PICKLE_ATTEMPTS = 5  # a request moto serves unlocked (SQS ReceiveMessage) may resize a set being pickled
_RETRY_AFTER_FAILURE_SECONDS = 1.0


class StateStore:
    def __init__(self, directory: Path, lock: StateLock | None = None) -> None:
        self.directory = directory
        self.lock = lock or StateLock()
        directory.mkdir(parents=True, exist_ok=True)
        directory.chmod(0o700)  # the state holds everything clients stored
        remove_leftover_temporaries(directory)
        self.s3_objects = S3Objects(directory / "s3-bodies")
        self._condition = threading.Condition()
        self._dirty: set[str] = set()
        self._generation = 0
        self._saved_generation = 0
        self._closing = False
        self._closed = False
        self._thread: threading.Thread | None = None
        self._written: dict[str, bytes] = {}  # each service's payload as last written
        self.last_error: str | None = None

    def path(self, service: str) -> Path:
        return self.directory / f"{service}{SUFFIX}"

    # --- restore ------------------------------------------------------------------------
    def restore(self) -> list[str]:
        """Load every saved service into moto's backends; return the services restored."""
        loaded: dict[str, Any] = {}
        for service in PERSISTED_SERVICES:
            path = self.path(service)
            if not path.exists():
                continue
            payload = read_payload(path, service)
            try:
                loaded[service] = loads(payload, self.s3_objects.directory)
            except Exception as error:
                raise StateFileError(path, f"its data cannot be read ({type(error).__name__}: {error})") from None
        for service, accounts in loaded.items():
            backends = get_backend(service)  # type: ignore[call-overload]
            backends.clear()
            for account_id, regions in accounts.items():
                account_backends = backends[account_id]
                for region, backend in regions.items():
                    dict.__setitem__(account_backends, region, _as_installed_class(backend, backends.backend))
        return list(loaded)

    # --- changes and snapshots -------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._write_changes, name="state-writer", daemon=True)
        self._thread.start()

    def changed(self, services: Iterable[str]) -> int:
        """Mark services changed; return the generation `wait_saved` waits for."""
        services = {service for service in services if service in PERSISTED_SERVICES}
        with self._condition:
            if self._closed or not services:
                return self._saved_generation
            self._dirty |= services
            self._generation += 1
            self._condition.notify_all()
            return self._generation

    def forget_pickled_objects(self) -> None:
        """A request is about to change stored S3 objects in place; call it holding the lock shared."""
        self.s3_objects.forget_pickled()

    def wait_saved(self, generation: int, timeout: float = SAVE_TIMEOUT_SECONDS) -> bool:
        deadline = time.monotonic() + timeout
        with self._condition:
            while self._saved_generation < generation and not self._closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._condition.wait(remaining)
        return True

    def close(self) -> None:
        """Write what is still unsaved, then stop; later changes are not saved."""
        with self._condition:
            self._closing = True
            self._condition.notify_all()
        if self._thread:
            self._thread.join()
        else:
            self._save(set(PERSISTED_SERVICES))
        with self._condition:
            self._closed = True
            self._condition.notify_all()

    def save_now(self, services: Iterable[str] = PERSISTED_SERVICES) -> None:
        """Snapshot `services` at once, on the caller's thread (the writer thread must not run)."""
        self._save(set(services))

    def _write_changes(self) -> None:
        while True:
            with self._condition:
                while not self._dirty and not self._closing:
                    self._condition.wait()
                if not self._dirty:
                    return
                services, self._dirty = self._dirty, set()
                generation = self._generation
            failed = not self._save(services)
            with self._condition:
                # Waiters are released even after a failure (it is logged): a request never hangs on the disk.
                self._saved_generation = max(self._saved_generation, generation)
                self._condition.notify_all()
                if failed:
                    self._dirty |= services
                    self._condition.wait(_RETRY_AFTER_FAILURE_SECONDS)

    def _save(self, services: set[str]) -> bool:
        try:
            payloads = self._snapshot(services)
            if "s3" in payloads:
                self.s3_objects.write_pending()
            for service, payload in payloads.items():
                if self._written.get(service) != payload:  # an S3 write marks SNS and SQS, which seldom change
                    write_atomically(self.path(service), service, payload)
                    self._written[service] = payload
            if "s3" in payloads:
                self.s3_objects.remove_unreferenced()
        except Exception as error:
            self.last_error = f"{type(error).__name__}: {error}"
            print(f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ} The local endpoint could not save the state of "
                  f"{', '.join(sorted(services))} to {self.directory}: {self.last_error}", file=sys.stderr, flush=True)
            return False
        self.last_error = None
        return True

    def _snapshot(self, services: set[str]) -> dict[str, bytes]:
        """Pickle the services' backends as one consistent moment (no change is half-made)."""
        for attempt in range(_PICKLE_ATTEMPTS):
            try:
                with self.lock.exclusive():
                    return {service: self._pickle(service) for service in sorted(services)}
            except RuntimeError:  # "changed size during iteration": try again
                if attempt == _PICKLE_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def _pickle(self, service: str) -> bytes:
        backends = get_backend(service)  # type: ignore[call-overload]
        accounts = {account_id: dict(regions) for account_id, regions in list(backends.items())}
        if service != "s3":
            return dumps(accounts, None)
        self.s3_objects.start_snapshot()
        return dumps(accounts, self.s3_objects)


def _as_installed_class(backend: Any, installed: type) -> Any:
    """A backend saved before the endpoint extended its service's moto class (S3's notifications, IAM's
    simulator) comes back as the extension: those subclasses add methods and no state, so only its
    class changes (one with state of its own, the SageMaker backend, was always saved as itself)."""
    if type(backend) is not installed and issubclass(installed, type(backend)):
        backend.__class__ = installed
    return backend
