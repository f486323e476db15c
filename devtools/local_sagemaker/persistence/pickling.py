"""Pickle moto's backends as they are, with the few things pickle cannot take replaced.

moto's models are plain Python objects, so pickling a service's backends keeps every field
moto has, with no per-resource export code to fall behind moto. What pickle cannot take: locks
and conditions (moto's SQS queues hold one; they are made anew, unlocked, on restore) and S3
objects (s3_objects.py: bodies in files of their own, every version). The engine's own objects
say what they keep (`__getstate__` of the SageMaker backend, its runs and jobs).
"""

from __future__ import annotations

import functools
import io
import pickle
import threading
from pathlib import Path
from typing import Any

from moto.s3.models import FakeKey
from moto.s3.utils import _VersionedKeyStore

from .s3_objects import S3Objects, reduce_fake_key, reduce_key_store, restore_fake_key

_FRESH_ON_RESTORE: dict[type, Any] = {
    type(threading.Lock()): threading.Lock,
    type(threading.RLock()): threading.RLock,
    threading.Condition: threading.Condition,
    threading.Event: threading.Event,
}


class BackendPickler(pickle.Pickler):
    """`objects`: the S3 folder, needed when S3 objects are pickled; `reuse`: reuse their pickled metadata."""

    def __init__(self, file: io.BytesIO, objects: S3Objects | None, reuse: bool = True) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.objects = objects
        self.reuse = reuse

    def reducer_override(self, obj: Any) -> Any:
        kind = type(obj)
        factory = _FRESH_ON_RESTORE.get(kind)
        if factory is not None:
            return factory, ()
        if kind is FakeKey:
            return self._reduce_fake_key(obj)
        if kind is _VersionedKeyStore:
            return reduce_key_store(obj)
        return NotImplemented

    def _reduce_fake_key(self, key: FakeKey) -> Any:
        if self.objects is None:
            raise pickle.PicklingError("S3 objects are saved only with the S3 service's body folder")
        if not self.reuse:
            return reduce_fake_key(key, self.objects)
        data = self.objects.pickled(key)
        if data is None:
            data = dumps(key, self.objects, reuse=False)
            self.objects.remember_pickled(key, data)
        return load_pickled, (data,)


def load_pickled(data: bytes, directory: Path | None = None) -> Any:
    """An object pickled on its own inside a snapshot; `directory` is bound by BackendUnpickler."""
    if directory is None:
        raise pickle.UnpicklingError("a saved S3 object can only be read with its state's body folder")
    return loads(data, directory)


class BackendUnpickler(pickle.Unpickler):
    """Reads what BackendPickler wrote; S3 bodies come from `body_directory`."""

    def __init__(self, file: io.BytesIO, body_directory: Path) -> None:
        super().__init__(file)
        self.body_directory = body_directory

    def find_class(self, module: str, name: str) -> Any:
        found = super().find_class(module, name)
        if found is restore_fake_key or found is load_pickled:
            return functools.partial(found, directory=self.body_directory)
        return found


def dumps(value: Any, objects: S3Objects | None, reuse: bool = True) -> bytes:
    buffer = io.BytesIO()
    BackendPickler(buffer, objects, reuse).dump(value)
    return buffer.getvalue()


def loads(payload: bytes, body_directory: Path) -> Any:
    return BackendUnpickler(io.BytesIO(payload), body_directory).load()
