"""The stack's own servers and processes: Postgres and Redis private to a home, and nothing outliving its stack."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil
import pytest

from devtools.local_airflow.local_postgres import LocalPostgres
from devtools.local_airflow.local_redis import LocalRedis
from devtools.local_airflow.processes import ProcessSet, alive


def query(postgres: LocalPostgres, sql: str) -> list[tuple]:
    import psycopg2

    connection = psycopg2.connect(host=str(postgres.socket_dir), user="airflow", dbname="airflow")
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall() if cursor.description else []
    finally:
        connection.close()


def listening_inet_ports(processes: list[psutil.Process]) -> list[tuple]:
    pids = {process.pid for process in processes}
    return [c.laddr for c in psutil.net_connections("inet") if c.pid in pids and c.status == psutil.CONN_LISTEN]


@pytest.mark.timeout(120)
def test_postgres_is_created_on_first_use_keeps_its_data_across_restarts_and_opens_no_tcp_port(stack_home) -> None:
    processes = ProcessSet(stack_home / "run" / "processes.json")
    postgres = LocalPostgres(stack_home / "postgres", processes)

    assert postgres.start() is True  # created now
    assert postgres.url() == f"postgresql+psycopg2://airflow@/airflow?host={postgres.socket_dir}"
    query(postgres, "CREATE TABLE dag_run (run_id text); INSERT INTO dag_run VALUES ('backfill__2024-03-01')")
    tree = postgres.process.tree()
    assert len(tree) > 1 and listening_inet_ports(tree) == []
    assert oct(postgres.socket_dir.stat().st_mode & 0o777) == oct(0o700)
    postgres.stop()
    assert alive(tree) == [] and processes.exit_codes["postgres"] == 0

    assert postgres.start() is False  # found, not created again
    assert query(postgres, "SELECT run_id FROM dag_run") == [("backfill__2024-03-01",)]
    postgres.stop()


@pytest.mark.timeout(120)
def test_a_postgres_server_left_running_on_the_data_directory_is_stopped_before_the_new_one_starts(stack_home) -> None:
    first = LocalPostgres(stack_home / "postgres", ProcessSet(stack_home / "run" / "a.json"))
    first.start()
    orphan = psutil.Process(first.process.pid)  # as if the stack that started it had died
    second = LocalPostgres(stack_home / "postgres", ProcessSet(stack_home / "run" / "b.json"))
    second.start()
    try:
        orphan.wait(30)  # stopped (fast shutdown) by the second start
        assert query(second, "SELECT 1") == [(1,)]
    finally:
        second.stop()


@pytest.mark.timeout(60)
def test_redis_answers_on_its_socket_only_and_keeps_queued_messages_across_a_restart(stack_home) -> None:
    processes = ProcessSet(stack_home / "run" / "processes.json")
    redis = LocalRedis(stack_home / "redis", processes)
    redis.start()
    assert redis.broker_url == f"redis+socket://{redis.socket}?virtual_host=0"
    assert listening_inet_ports(redis.process.tree()) == []
    client = _redis_client(redis)
    client.lpush("celery", "a queued task")
    redis.stop()
    assert not redis.ping()

    redis.start()
    assert _redis_client(redis).lrange("celery", 0, -1) == [b"a queued task"]
    redis.stop()


def _redis_client(redis: LocalRedis):
    import redis as redis_py

    return redis_py.Redis(unix_socket_path=str(redis.socket))


PARENT = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from devtools.local_airflow.processes import ProcessSet
    processes = ProcessSet(Path(sys.argv[1]))
    child = processes.start("sleeper", [sys.executable, "-c", "import time; time.sleep(600)"], env={},
                            cwd=Path.cwd(), log_path=Path(sys.argv[2]))
    print(child.pid, flush=True)
    time.sleep(600)
""")


@pytest.mark.skipif(sys.platform != "linux", reason="the parent-death signal is Linux's")
@pytest.mark.timeout(60)
def test_a_process_of_a_stack_whose_own_process_is_killed_stops_too(stack_home) -> None:
    """What left `airflow api_server` processes behind: the stack's process killed (SIGKILL, a job
    runner's `kill -- -PGID`), its components, each in a session of its own, running on."""
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(stack_home / "processes.json"),
                               str(stack_home / "sleeper.log")], stdout=subprocess.PIPE, text=True,
                              cwd=Path(__file__).resolve().parents[2], env={**os.environ, "PYTHONPATH": "."})
    child = psutil.Process(int(parent.stdout.readline()))
    assert child.is_running()
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    child.wait(30)  # it got SIGTERM when its parent died


@pytest.mark.timeout(60)
def test_the_next_start_ends_what_a_stack_that_died_left_running(stack_home) -> None:
    registry = stack_home / "run" / "processes.json"
    dead_stack = ProcessSet(registry)
    # A leftover that ignores SIGTERM, with a child of its own.
    leftover = dead_stack.start("api-server", [sys.executable, "-c", "import signal, subprocess, sys, time; "
                                "signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                                "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']); "
                                "time.sleep(600)"], env={}, cwd=stack_home, log_path=stack_home / "leftover.log")
    tree = _tree_with_child(leftover.pid)

    ended = ProcessSet(registry).end_leftovers()
    assert ended == [f"api-server (pid {leftover.pid})"]
    leftover.popen.wait(10)
    assert alive(tree) == []


def _tree_with_child(pid: int) -> list[psutil.Process]:
    from tests.stack.runs import eventually

    root = psutil.Process(pid)
    return eventually(lambda: (children := root.children(recursive=True)) and [root, *children],
                      "the leftover's child", timeout=30, every=0.1)
