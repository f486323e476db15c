"""One endpoint per work dir, and nothing left behind by an endpoint that died.

An endpoint holds an exclusive `flock` on `<work dir>/.endpoint.lock` while it runs; the kernel
drops it however the endpoint ends. So a second endpoint on the same --work-dir (which would
overwrite the first one's state) is refused, naming the pid that holds it; and a work dir whose
lock nobody holds belongs to an endpoint that is gone. At start an endpoint reuses a given
work dir after ending the job processes its predecessor left (orphans.py), and removes the
temporary work dirs (`local-sagemaker-*` in the system's temp folder) of endpoints that died
without cleaning up, after ending theirs. The owner's pid is written only once the lock is held,
so a work dir another endpoint is just creating is never taken for an abandoned one.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from pathlib import Path

from .orphans import end_orphans

LOCK_FILE = ".endpoint.lock"
TEMPORARY_PREFIX = "local-sagemaker-"


class WorkDirInUse(RuntimeError):
    pass


class WorkDirLease:
    """This endpoint's claim on its work dir, until `release()` (or its death)."""

    def __init__(self, directory: Path, temporary: bool) -> None:
        self.directory = directory
        self.temporary = temporary
        self._handle = (directory / LOCK_FILE).open("a+")
        try:
            # A new temporary dir may be locked for an instant by another endpoint's scan: wait for it.
            fcntl.flock(self._handle, fcntl.LOCK_EX if temporary else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._handle.seek(0)
            owner = self._handle.read().strip() or "unknown"
            self._handle.close()
            raise WorkDirInUse(
                f"work dir {directory} is in use by another local SageMaker endpoint (pid {owner}); "
                "give each endpoint its own --work-dir"
            ) from None
        self._handle.seek(0)
        self._handle.truncate()
        self._handle.write(str(os.getpid()))
        self._handle.flush()

    @classmethod
    def claim(cls, directory: Path) -> WorkDirLease:
        """A given work dir: reused, after ending what its previous endpoint left running."""
        directory.mkdir(parents=True, exist_ok=True)
        lease = cls(directory, temporary=False)
        end_orphans(directory)
        return lease

    @classmethod
    def temporary(cls) -> WorkDirLease:
        remove_abandoned_temporary_dirs()
        return cls(Path(tempfile.mkdtemp(prefix=TEMPORARY_PREFIX)), temporary=True)

    def release(self) -> None:
        if self.temporary:
            shutil.rmtree(self.directory, ignore_errors=True)
        self._handle.close()


def remove_abandoned_temporary_dirs() -> list[Path]:
    """Temporary work dirs whose endpoint is gone: their leftover jobs ended, the dirs removed."""
    removed = []
    for directory in Path(tempfile.gettempdir()).glob(f"{TEMPORARY_PREFIX}*"):
        lock_path = directory / LOCK_FILE
        try:
            handle = lock_path.open("r")
        except OSError:
            continue  # not ours to judge: no lock file (being created, or another version's)
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # its endpoint runs
            if not handle.read().strip():
                continue  # its endpoint is between creating the file and locking it
            end_orphans(directory)
            shutil.rmtree(directory, ignore_errors=True)
            removed.append(directory)
    return removed
