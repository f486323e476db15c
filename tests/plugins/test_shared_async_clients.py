"""The triggers of one connection share one client in a triggerer: opened by the first, closed by the last."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from airflow_sagemaker_pipelines.hooks.shared_async_clients import open_clients, shared_client


class _Client:
    def __init__(self, log: list[str], name: str) -> None:
        self.log, self.name = log, name

    async def __aenter__(self) -> _Client:
        self.log.append(f"open {self.name}")
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.log.append(f"close {self.name}")


class _Hook:
    """What shared_client reads of an AWS hook, and a get_async_conn that logs each client it opens."""

    client_type, region_name, verify = "sagemaker", "us-east-1", None

    def __init__(self, log: list[str], conn_id: str = "aws_default", fail: bool = False) -> None:
        self.log, self.aws_conn_id, self.fail = log, conn_id, fail

    async def get_async_conn(self) -> _Client:
        await asyncio.sleep(0.01)  # a real one resolves credentials first: other users arrive meanwhile
        if self.fail:
            raise ConnectionError("no route to the endpoint")
        return _Client(self.log, self.aws_conn_id)


async def _use(hook: _Hook, seen: list[Any], hold: asyncio.Event) -> None:
    async with shared_client(hook) as client:
        seen.append(client)
        await hold.wait()


def test_the_triggers_of_one_connection_share_one_client_closed_after_the_last() -> None:
    async def scenario() -> tuple[list[str], list[Any], int]:
        log: list[str] = []
        seen: list[Any] = []
        hold = asyncio.Event()
        users = [asyncio.create_task(_use(_Hook(log), seen, hold)) for _ in range(50)]
        while len(seen) < 50:
            await asyncio.sleep(0.01)
        open_while_used = open_clients()
        hold.set()
        await asyncio.gather(*users)
        return log, seen, open_while_used

    log, seen, open_while_used = asyncio.run(scenario())
    assert log == ["open aws_default", "close aws_default"]
    assert len({id(client) for client in seen}) == 1 and open_while_used == 1
    assert open_clients() == 0


def test_another_connection_gets_its_own_client_and_a_cancelled_user_leaves_the_others_theirs() -> None:
    async def scenario() -> list[str]:
        log: list[str] = []
        seen: list[Any] = []
        hold = asyncio.Event()
        first = asyncio.create_task(_use(_Hook(log), seen, hold))
        second = asyncio.create_task(_use(_Hook(log), seen, hold))
        other = asyncio.create_task(_use(_Hook(log, "team_b"), seen, hold))
        while len(seen) < 3:
            await asyncio.sleep(0.01)
        first.cancel()  # a task marked failed: its trigger is cancelled
        await asyncio.gather(first, return_exceptions=True)
        log.append(f"{open_clients()} open after the cancel")
        hold.set()
        await asyncio.gather(second, other)
        return log

    log = asyncio.run(scenario())
    assert log[:2] == ["open aws_default", "open team_b"] and log[2] == "2 open after the cancel"
    assert sorted(log[3:]) == ["close aws_default", "close team_b"]
    assert open_clients() == 0


def test_a_client_that_cannot_open_is_not_kept_and_the_next_user_tries_again() -> None:
    async def scenario() -> list[str]:
        log: list[str] = []
        with pytest.raises(ConnectionError):
            async with shared_client(_Hook(log, fail=True)):
                pass
        assert open_clients() == 0
        async with shared_client(_Hook(log)) as client:
            assert client.name == "aws_default"
        return log

    assert asyncio.run(scenario()) == ["open aws_default", "close aws_default"]
