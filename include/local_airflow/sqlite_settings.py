"""SQLite for several Airflow processes at once (scheduler, dag-processor, triggerer, api-server, CLI).

Write-ahead logging lets readers go on while one process writes, and a busy timeout makes a
writer wait for the lock instead of failing with "database is locked". Production uses Postgres
(docker-compose.yaml); this is the laptop and CI stack.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

BUSY_TIMEOUT_SECONDS = 60
# Airflow imports these by path: [database] sql_alchemy_connect_args(_async).
CONNECT_ARGS = {"timeout": BUSY_TIMEOUT_SECONDS}
CONNECT_ARGS_ASYNC = {"timeout": BUSY_TIMEOUT_SECONDS}


def enable_write_ahead_log(database: Path) -> None:
    """WAL mode is a property of the database file: set once, every connection uses it."""
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
