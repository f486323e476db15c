"""S3 objects in a snapshot: bodies as files of their own, metadata pickled once, every version kept.

Bodies can be gigabytes: each gets its own file, written the first time a snapshot meets the
object and remembered on it, so later snapshots only name it. moto never changes a stored
object's body (a PutObject makes a new object), so a body file stays right for its object.
Bodies are copied in chunks (moto keeps large ones in temporary files), outside the
snapshot's lock: an object's body needs only the object's own lock. Files no snapshot names
any more are removed once the S3 snapshot that dropped them is on disk.

Every S3 change snapshots the whole S3 service, so an object's metadata (~1 KB of moto
attributes) is pickled once, when its body is on disk, and those bytes are reused while the
object lives: a snapshot of thousands of objects then mostly copies bytes. The few requests
that change a stored object in place (its ACL, retention, legal hold, restore) make the next
snapshot pickle every object afresh (`forget_pickled`; requests.py tells which they are).

moto's key store pickles only the latest version of each key; `reduce_key_store` keeps them all.
"""

from __future__ import annotations

import copyreg
import os
import pickle
import shutil
import tempfile
import threading
import uuid
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from moto.s3.models import FakeKey
from moto.s3.utils import _VersionedKeyStore

# Set on a moto FakeKey once its body is in a file: the file's name.
BODY_FILE_ATTRIBUTE = "_local_endpoint_body_file"
_NOT_PICKLED = ("_value_buffer", "lock", BODY_FILE_ATTRIBUTE)
_CHUNK = 1024 * 1024


class S3Objects:
    """The body files of one state folder, and the pickled metadata of the objects already saved."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._on_disk = {path.name for path in directory.iterdir() if not path.name.startswith(".")}
        self._pending: list[tuple[FakeKey, str]] = []
        self.referenced: set[str] = set()
        # id(object) -> (the object, weakly; its pickled bytes; its body file)
        self._pickled: dict[int, tuple[weakref.ref[FakeKey], bytes, str]] = {}

    # --- a snapshot -------------------------------------------------------------------------
    def start_snapshot(self) -> None:
        """A new S3 snapshot (or another attempt at one) names its bodies from scratch."""
        self._pending = []
        self.referenced = set()
        self._pickled = {ident: entry for ident, entry in self._pickled.items() if entry[0]() is not None}

    def body_name(self, key: FakeKey) -> str:
        """The file of `key`'s body: its saved one, or a new name written by `write_pending()`."""
        name = getattr(key, BODY_FILE_ATTRIBUTE, None)
        if name is None:
            name = uuid.uuid4().hex
            self._pending.append((key, name))
        self.referenced.add(name)
        return name

    def pickled(self, key: FakeKey) -> bytes | None:
        """`key`'s metadata as an earlier snapshot pickled it, if it is still right."""
        entry = self._pickled.get(id(key))
        if entry is None or entry[0]() is not key:
            return None
        self.referenced.add(entry[2])
        return entry[1]

    def remember_pickled(self, key: FakeKey, data: bytes) -> None:
        """Keep `data` for later snapshots, once `key`'s body file exists (else it names a file that may never be)."""
        name = getattr(key, BODY_FILE_ATTRIBUTE, None)
        if name is not None:
            self._pickled[id(key)] = (weakref.ref(key), data, name)

    def forget_pickled(self) -> None:
        """A request changed a stored object in place: pickle every object afresh next time."""
        self._pickled = {}

    # --- after the snapshot's lock ---------------------------------------------------------
    def write_pending(self) -> None:
        """Write the bodies a snapshot named for the first time; only then is the snapshot written."""
        pending, self._pending = self._pending, []
        for key, name in pending:
            temporary = self.directory / f".{name}.tmp"
            with temporary.open("wb") as target, key.lock:
                try:
                    key._value_buffer.seek(0)
                    shutil.copyfileobj(key._value_buffer, target, _CHUNK)
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


def reduce_fake_key(key: FakeKey, objects: S3Objects) -> tuple[Any, ...]:
    """Pickle `key` as its attributes and the name of its body's file (pickle's reduce tuple)."""
    state = dict(key.__dict__)
    for name in _NOT_PICKLED:
        state.pop(name, None)
    return copyreg.__newobj__, (type(key),), (state, objects.body_name(key)), None, None, restore_fake_key


def restore_fake_key(key: FakeKey, saved: tuple[dict[str, Any], str], directory: Path | None = None) -> None:
    """The pickled state setter: `directory` is bound by the unpickler (pickling.BackendUnpickler)."""
    if directory is None:
        raise pickle.UnpicklingError("an S3 object's body can only be read with its state's body folder")
    state, name = saved
    key.__dict__.update(state)
    key.lock = threading.Lock()
    key._value_buffer = tempfile.SpooledTemporaryFile(max_size=key._max_buffer_size)  # noqa: SIM115 (moto owns it)
    path = directory / name
    try:
        with path.open("rb") as source:
            shutil.copyfileobj(source, key._value_buffer, _CHUNK)
    except FileNotFoundError:
        raise pickle.UnpicklingError(
            f"the body of s3://{state.get('bucket_name')}/{state.get('name')} ({path}) is missing"
        ) from None
    setattr(key, BODY_FILE_ATTRIBUTE, name)


def reduce_key_store(store: _VersionedKeyStore) -> tuple[Callable[..., Any], tuple[Any, ...]]:
    """A bucket's keys with all their versions (moto's own pickling keeps the latest only)."""
    return restore_key_store, (dict(store),)


def restore_key_store(versions: dict[str, list[Any]]) -> _VersionedKeyStore:
    store = _VersionedKeyStore()
    for name, listed in versions.items():
        dict.__setitem__(store, name, listed)
    return store
