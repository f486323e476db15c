"""Pickle moto's backends as they are, with the few things pickle cannot take replaced.

moto's models are plain Python objects, so pickling a service's backends keeps every field
moto has, with no per-resource export code to fall behind moto. What pickle cannot take: locks
and conditions (moto's SQS queues hold one; they are made anew, unlocked, on restore) and S3
bodies (kept in files of their own, s3_bodies.py). The engine's own objects say what they keep
(`__getstate__` of the SageMaker backend, its runs and jobs).
"""

from __future__ import annotations

import functools
import io
import pickle
import threading
from pathlib import Path
from typing import Any

from moto.s3.models import FakeKey

from .s3_bodies import BodyFiles, reduce_fake_key, restore_fake_key

_FRESH_ON_RESTORE: dict[type, Any] = {
    type(threading.Lock()): threading.Lock,
    type(threading.RLock()): threading.RLock,
    threading.Condition: threading.Condition,
    threading.Event: threading.Event,
}


class BackendPickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, bodies: BodyFiles | None) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.bodies = bodies

    def reducer_override(self, obj: Any) -> Any:
        factory = _FRESH_ON_RESTORE.get(type(obj))
        if factory is not None:
            return factory, ()
        if isinstance(obj, FakeKey):
            if self.bodies is None:
                raise pickle.PicklingError("S3 objects are saved only with the S3 service's body folder")
            return reduce_fake_key(obj, self.bodies)
        return NotImplemented


class BackendUnpickler(pickle.Unpickler):
    """Reads what BackendPickler wrote; S3 bodies come from `body_directory`."""

    def __init__(self, file: io.BytesIO, body_directory: Path) -> None:
        super().__init__(file)
        self.body_directory = body_directory

    def find_class(self, module: str, name: str) -> Any:
        found = super().find_class(module, name)
        if found is restore_fake_key:
            return functools.partial(restore_fake_key, directory=self.body_directory)
        return found


def dumps(value: Any, bodies: BodyFiles | None) -> bytes:
    buffer = io.BytesIO()
    BackendPickler(buffer, bodies).dump(value)
    return buffer.getvalue()


def loads(payload: bytes, body_directory: Path) -> Any:
    return BackendUnpickler(io.BytesIO(payload), body_directory).load()
