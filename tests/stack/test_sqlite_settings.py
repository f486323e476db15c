"""The stack's SQLite sessions: a savepoint's writes stay in the session's transaction and wait for the lock."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from include.local_airflow.sqlite_settings import session_maker


def make_session_factory(database: Path, timeout: float = 10):
    engine = create_engine(f"sqlite:///{database}", connect_args={"timeout": timeout})
    with engine.begin() as connection:
        connection.exec_driver_sql("PRAGMA journal_mode=WAL")
        connection.exec_driver_sql("CREATE TABLE dag_run (id INTEGER PRIMARY KEY, run_id TEXT UNIQUE)")
    return session_maker(engine)


def count_runs(database: Path) -> int:
    with sqlite3.connect(database) as other_process:
        return other_process.execute("SELECT count(*) FROM dag_run").fetchone()[0]


def test_runs_written_in_savepoints_after_a_commit_are_invisible_until_the_session_commits(tmp_path) -> None:
    database = tmp_path / "airflow.db"
    session = make_session_factory(database)()
    session.execute(text("INSERT INTO dag_run (run_id) VALUES ('backfill row')"))
    session.commit()  # as `airflow backfill create` commits the Backfill before its runs

    for day in range(3):
        with session.begin_nested():
            session.execute(text("INSERT INTO dag_run (run_id) VALUES (:run_id)"), {"run_id": f"run {day}"})
    assert count_runs(database) == 1  # the scheduler sees none of the runs yet

    session.commit()
    assert count_runs(database) == 4
    session.close()


def test_a_rolled_back_session_leaves_no_run_behind(tmp_path) -> None:
    database = tmp_path / "airflow.db"
    session = make_session_factory(database)()
    session.commit()
    with session.begin_nested():
        session.execute(text("INSERT INTO dag_run (run_id) VALUES ('half-created')"))
    session.rollback()
    assert count_runs(database) == 0
    session.close()


def test_a_savepoint_that_reads_then_writes_waits_for_another_writer_instead_of_failing(tmp_path) -> None:
    database = tmp_path / "airflow.db"
    session = make_session_factory(database)()
    writer = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO dag_run (run_id) VALUES ('scheduled run')")
    releases_the_lock = threading.Timer(1.0, writer.execute, args=("COMMIT",))
    releases_the_lock.start()

    started = time.monotonic()
    with session.begin_nested():
        session.execute(text("SELECT count(*) FROM dag_run")).scalar_one()
        session.execute(text("INSERT INTO dag_run (run_id) VALUES ('backfill run')"))
    session.commit()
    releases_the_lock.join()

    assert time.monotonic() - started >= 0.9  # it waited for the other writer's commit
    assert count_runs(database) == 2
    session.close()
    writer.close()
