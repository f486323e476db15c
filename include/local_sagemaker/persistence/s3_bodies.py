"""S3 object bodies are saved once each, as files beside the state, never inside a snapshot.

A snapshot pickles moto's S3 objects without their bodies, which can be gigabytes: each body
gets its own file, written the first time a snapshot meets the object and remembered on it, so
later snapshots only name it. moto never changes a stored object's body (a PutObject makes a
new object), so a body file stays right for its object. Bodies are copied in chunks (moto keeps
large ones in temporary files), outside the snapshot's lock: an object's body needs no lock
of the state, only the object's own. Files no snapshot names any more are removed after the
S3 snapshot that dropped them is on disk.
"""

from __future__ import annotations

import copyreg
import os
import pickle
import shutil
import tempfile
import threading
import uuid
from pathlib import Path
from typing import Any

from moto.s3.models import FakeKey

# Set on a moto FakeKey once its body is in a file: the file's name.
BODY_FILE_ATTRIBUTE = "_local_endpoint_body_file"
_NOT_PICKLED = ("_value_buffer", "lock", BODY_FILE_ATTRIBUTE)


class BodyFiles:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._on_disk = {path.name for path in directory.iterdir() if not path.name.startswith(".")}
        self._pending: list[tuple[FakeKey, str]] = []
        self.referenced: set[str] = set()

    def start_snapshot(self) -> None:
        """A new S3 snapshot (or another attempt at one) names its bodies from scratch."""
        self._pending = []
        self.referenced = set()

    def name_for(self, key: FakeKey) -> str:
        """The file of `key`'s body: its saved one, or a new name written by `write_pending()`."""
        name = getattr(key, BODY_FILE_ATTRIBUTE, None)
        if name is None:
            name = uuid.uuid4().hex
            self._pending.append((key, name))
        self.referenced.add(name)
        return name

    def write_pending(self) -> None:
        """Write the bodies a snapshot named for the first time; only then is the snapshot written."""
        pending, self._pending = self._pending, []
        for key, name in pending:
            temporary = self.directory / f".{name}.tmp"
            with temporary.open("wb") as target, key.lock:
                try:
                    key._value_buffer.seek(0)
                    shutil.copyfileobj(key._value_buffer, target, 1024 * 1024)
                except ValueError:
                    pass  # deleted since the snapshot (its buffer is closed); the next snapshot drops it
            os.replace(temporary, self.directory / name)
            self._on_disk.add(name)
            setattr(key, BODY_FILE_ATTRIBUTE, name)

    def remove_unreferenced(self) -> None:
        """After the S3 snapshot is on disk: remove the bodies it does not name."""
        for name in self._on_disk - self.referenced:
            (self.directory / name).unlink(missing_ok=True)
        self._on_disk &= self.referenced
        self.referenced = set()


def reduce_fake_key(key: FakeKey, bodies: BodyFiles) -> tuple[Any, ...]:
    """Pickle `key` as its attributes and the name of its body's file (pickle's reduce tuple)."""
    state = {name: value for name, value in key.__dict__.items() if name not in _NOT_PICKLED}
    return copyreg.__newobj__, (type(key),), (state, bodies.name_for(key)), None, None, restore_fake_key


def restore_fake_key(key: FakeKey, saved: tuple[dict[str, Any], str], directory: Path | None = None) -> None:
    """The pickled state setter: `directory` is bound by the unpickler (BackendUnpickler.find_class)."""
    if directory is None:
        raise pickle.UnpicklingError("an S3 object's body can only be read with its state's body folder")
    state, name = saved
    key.__dict__.update(state)
    key.lock = threading.Lock()
    key._value_buffer = tempfile.SpooledTemporaryFile(max_size=key._max_buffer_size)  # noqa: SIM115 (moto owns it)
    path = directory / name
    try:
        with path.open("rb") as source:
            shutil.copyfileobj(source, key._value_buffer, 1024 * 1024)
    except FileNotFoundError:
        raise pickle.UnpicklingError(
            f"the body of s3://{state.get('bucket_name')}/{state.get('name')} ({path}) is missing"
        ) from None
    setattr(key, BODY_FILE_ATTRIBUTE, name)
