"""`make run`'s metadata DB: migrated once per Airflow schema, each run gets its own copy."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path

from devtools.local_airflow import prepared_metadata_db
from devtools.local_airflow.environment import POOLS_FILE
from devtools.local_airflow.prepared_metadata_db import copy_prepared_db

POOLS = json.loads(POOLS_FILE.read_text())
POOL = "sagemaker_pipelines"
POOL_SLOTS = POOLS[POOL]["slots"]


def query(database: Path, sql: str) -> list[tuple]:
    with closing(sqlite3.connect(database)) as connection:
        return connection.execute(sql).fetchall()


def migration_head() -> str:
    from airflow.utils.db import _get_script_object

    return _get_script_object().get_current_head()


def test_the_second_run_gets_a_copy_of_the_db_the_first_one_migrated(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    stale = cache / "airflow-0123456789abcdef.db"
    stale.write_bytes(b"an older Airflow's DB")
    first, second = tmp_path / "run-1" / "airflow.db", tmp_path / "run-2" / "airflow.db"

    assert copy_prepared_db(first, cache) is False
    assert copy_prepared_db(second, cache) is True  # a file copy, no second migration
    assert not stale.exists()

    for database in (first, second):
        assert query(database, "SELECT version_num FROM alembic_version") == [(migration_head(),)]
        assert query(database, f"SELECT slots, include_deferred FROM slot_pool WHERE pool = '{POOL}'") == [(POOL_SLOTS, 1)]
        assert query(database, "SELECT slots FROM slot_pool WHERE pool = 'sagemaker_model_registry'") == [(1,)]
    with closing(sqlite3.connect(first)) as connection, connection:
        connection.execute(f"UPDATE slot_pool SET slots = 99 WHERE pool = '{POOL}'")
    assert query(second, f"SELECT slots FROM slot_pool WHERE pool = '{POOL}'") == [(POOL_SLOTS,)]
    assert query(next(cache.glob("airflow-*.db")), f"SELECT slots FROM slot_pool WHERE pool = '{POOL}'") == [(POOL_SLOTS,)]


def test_another_airflow_version_or_pool_is_another_prepared_db(monkeypatch, tmp_path: Path) -> None:
    key = prepared_metadata_db.cache_key()
    assert prepared_metadata_db.cache_key() == key
    monkeypatch.setattr(prepared_metadata_db.importlib.metadata, "version", lambda name: "3.3.3")
    assert prepared_metadata_db.cache_key() != key
    monkeypatch.undo()
    other_pools = tmp_path / "pools.json"
    other_pools.write_text(json.dumps({**POOLS, POOL: {**POOLS[POOL], "slots": POOL_SLOTS + 1}}))
    monkeypatch.setattr(prepared_metadata_db.environment, "POOLS_FILE", other_pools)
    assert prepared_metadata_db.cache_key() != key


def test_a_run_that_waited_for_another_ones_preparation_copies_it_instead_of_migrating_again(
        monkeypatch, tmp_path: Path) -> None:
    cache, target = tmp_path / "cache", tmp_path / "run" / "airflow.db"
    cached = cache / f"airflow-{prepared_metadata_db.cache_key()}.db"
    preparations: list[Path] = []
    monkeypatch.setattr(prepared_metadata_db, "_prepare", preparations.append)
    results: list[bool] = []

    with prepared_metadata_db._preparing(cache):  # another run is preparing
        waiting = threading.Thread(target=lambda: results.append(copy_prepared_db(target, cache)))
        waiting.start()
        _until_a_lock_waits(os.getpid())  # this run found no DB and waits for the lock
        cached.write_bytes(b"the other run's prepared DB")
    waiting.join(timeout=60)

    assert results == [True] and preparations == []
    assert target.read_bytes() == b"the other run's prepared DB"


def _until_a_lock_waits(pid: int, timeout: float = 60) -> None:
    """Return once /proc/locks lists a blocked flock of `pid` (a "->" line): the thread is in flock()."""
    deadline = time.monotonic() + timeout
    while not any(line.split()[1] == "->" and line.split()[5] == str(pid)
                  for line in Path("/proc/locks").read_text().splitlines()):
        assert time.monotonic() < deadline, "copy_prepared_db never waited for the lock"
        time.sleep(0.01)
