"""`make run`'s metadata DB: migrated once per Airflow schema, each run gets its own copy."""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from pathlib import Path

from include.local_airflow import prepared_metadata_db
from include.local_airflow.environment import POOL, POOL_SLOTS
from include.local_airflow.prepared_metadata_db import copy_prepared_db


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
    started = time.perf_counter()
    assert copy_prepared_db(second, cache) is True
    assert time.perf_counter() - started < 1  # a file copy; `airflow db migrate` takes seconds
    assert not stale.exists()

    for database in (first, second):
        assert query(database, "SELECT version_num FROM alembic_version") == [(migration_head(),)]
        assert query(database, f"SELECT slots, include_deferred FROM slot_pool WHERE pool = '{POOL}'") == [(POOL_SLOTS, 1)]
    with closing(sqlite3.connect(first)) as connection, connection:
        connection.execute(f"UPDATE slot_pool SET slots = 99 WHERE pool = '{POOL}'")
    assert query(second, f"SELECT slots FROM slot_pool WHERE pool = '{POOL}'") == [(POOL_SLOTS,)]
    assert query(next(cache.glob("airflow-*.db")), f"SELECT slots FROM slot_pool WHERE pool = '{POOL}'") == [(POOL_SLOTS,)]


def test_another_airflow_version_or_pool_is_another_prepared_db(monkeypatch) -> None:
    key = prepared_metadata_db.cache_key()
    assert prepared_metadata_db.cache_key() == key
    monkeypatch.setattr(prepared_metadata_db.importlib.metadata, "version", lambda name: "3.3.3")
    assert prepared_metadata_db.cache_key() != key
    monkeypatch.undo()
    monkeypatch.setattr(prepared_metadata_db.environment, "POOL_SLOTS", POOL_SLOTS + 1)
    assert prepared_metadata_db.cache_key() != key
