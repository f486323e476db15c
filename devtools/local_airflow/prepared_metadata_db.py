"""A migrated Airflow metadata DB (SQLite, with the pool), prepared once and copied into each throwaway home.

`airflow db migrate` and `airflow pools set` cost 5-9 s of every `make run`, and their result only
changes with Airflow's schema (its version and its migrations) or with how this project prepares
the DB. So the prepared DB is kept under that key next to the virtualenv (`make clean` drops it)
and each run gets a copy of it, as fresh as a migrated one.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import importlib.util
import inspect
import os
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from devtools.local_airflow import environment
from devtools.local_airflow.environment import airflow_environment, prepare_metadata_db

CACHE_DIR = Path(sys.prefix) / "airflow-metadata-db"


def cache_key() -> str:
    """What a prepared DB depends on: Airflow's version and migration files, the pools, the preparation code."""
    airflow_spec = importlib.util.find_spec("airflow")  # locates the package without importing it (~2 s)
    assert airflow_spec is not None and airflow_spec.submodule_search_locations, "apache-airflow is not installed"
    migrations = Path(next(iter(airflow_spec.submodule_search_locations))) / "migrations" / "versions"
    parts = [
        importlib.metadata.version("apache-airflow-core"),
        *sorted(path.name for path in migrations.glob("*.py")),
        environment.POOLS_FILE.read_text(),
        inspect.getsource(prepare_metadata_db),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def copy_prepared_db(target: Path, cache_dir: Path = CACHE_DIR) -> bool:
    """Put a migrated DB with the pools at `target`; True when it was reused, False when prepared now."""
    cached = cache_dir / f"airflow-{cache_key()}.db"
    reused = cached.exists()
    if not reused:
        with _preparing(cache_dir):
            # Another process (an xdist worker, a `make run` beside `make test`) may have prepared it
            # while this one waited: one migration, not one each.
            reused = cached.exists()
            if not reused:
                _prepare(cached)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.copying")
    shutil.copyfile(cached, partial)
    os.replace(partial, target)  # whole: a connection already open keeps the file it opened
    return reused


@contextmanager
def _preparing(cache_dir: Path) -> Iterator[None]:
    """Hold the cache's lock: an exclusive flock, released by the kernel if the holder dies."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    with (cache_dir / ".preparing.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _prepare(cached: Path) -> None:
    cached.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cached.parent, prefix="preparing-") as home:
        prepare_metadata_db(airflow_environment(Path(home)))
        # The backup API copies a consistent DB whatever its WAL still holds; the rename publishes it
        # whole, so a concurrent run sees either nothing or the finished file.
        partial = Path(home) / "prepared.db"
        with closing(sqlite3.connect(Path(home) / "airflow.db")) as source, closing(sqlite3.connect(partial)) as copy:
            source.backup(copy)
        os.replace(partial, cached)
    for stale in cached.parent.glob("airflow-*.db"):
        if stale != cached:
            stale.unlink(missing_ok=True)
