"""SQLite for several Airflow processes at once (scheduler, dag-processor, triggerer, api-server, CLI).

Airflow puts every SQLite connection in write-ahead-log mode (readers go on while one process
writes); the busy timeout here makes a writer wait for the lock instead of failing with
"database is locked". Production uses Postgres (docker-compose.yaml); this is the laptop and
CI stack.

The busy timeout alone is not enough. Python's sqlite3 driver opens a transaction only before
an INSERT/UPDATE/DELETE, so a SAVEPOINT outside one starts a transaction that SQLite commits at
RELEASE, and a transaction that has read first cannot wait for the write lock: SQLite refuses
it at once. `airflow backfill create` does both (a savepoint per run: read, then insert). Its
runs became visible one at a time, a lock error midway made it delete them again, and the
scheduler, already creating their task instances, crashed on the foreign key.
`session_maker` opens a real transaction before any savepoint, with `BEGIN IMMEDIATE`: it waits
for the write lock up front (the busy timeout applies) and the savepoint's writes stay invisible
to other processes until the session commits. Transactions without savepoints keep the driver's
behaviour: taking the lock for every read would serialize all the processes, and Airflow holds
a reading session open while another one writes (`airflow db migrate` does).
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import sessionmaker

BUSY_TIMEOUT_SECONDS = 60
# Airflow imports these by path: [database] sql_alchemy_connect_args(_async), sql_alchemy_session_maker.
CONNECT_ARGS = {"timeout": BUSY_TIMEOUT_SECONDS}
CONNECT_ARGS_ASYNC = {"timeout": BUSY_TIMEOUT_SECONDS}


def session_maker(engine: Engine) -> sessionmaker:
    """Airflow's own session factory (settings.configure_orm), with savepoints inside transactions on SQLite."""
    if engine.dialect.name == "sqlite":
        event.listen(engine, "savepoint", _begin_before_a_savepoint_outside_a_transaction)
    return sessionmaker(engine, autocommit=False, autoflush=False, expire_on_commit=False)


def _begin_before_a_savepoint_outside_a_transaction(connection: Connection, _name: str) -> None:
    driver_connection = connection.connection.dbapi_connection
    if not driver_connection.in_transaction:
        # The driver commits or rolls this back with the session, like a transaction it began.
        driver_connection.execute("BEGIN IMMEDIATE")
