"""One aiobotocore client per connection in a triggerer, shared by every trigger that polls through it.

A client costs ~1.6 MB (its service model, endpoint resolver, HTTP session and connection pool):
a triggerer that held one per deferred wait grew to 1.3 GB for 500 waits. Triggers run on one
event loop, and a client is safe to share across its coroutines, so the first trigger of a
connection (its id, region, verify and botocore config, and the service) opens the client, the
others borrow it, and the last one to finish closes it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class _Shared:
    opening: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0
    context: Any = None  # what get_async_conn returned: exited to close the client
    client: Any = None


_clients: dict[tuple[Any, ...], _Shared] = {}


def _key(hook: Any, botocore_config: dict | None) -> tuple[Any, ...]:
    return (id(asyncio.get_running_loop()), hook.client_type, hook.aws_conn_id, hook.region_name, str(hook.verify),
            json.dumps(botocore_config or {}, sort_keys=True, default=str))


@asynccontextmanager
async def shared_client(hook: Any, botocore_config: dict | None = None) -> AsyncIterator[Any]:
    """The connection's client for this event loop, opened by its first user and closed by its last."""
    key = _key(hook, botocore_config)
    shared = _clients.setdefault(key, _Shared())
    shared.users += 1
    try:
        async with shared.opening:
            if shared.client is None:
                context = await hook.get_async_conn()
                shared.client = await context.__aenter__()
                shared.context = context
        yield shared.client
    finally:
        shared.users -= 1
        if shared.users == 0:
            _clients.pop(key, None)
            if shared.context is not None:  # no client outlives its users
                await shared.context.__aexit__(None, None, None)


def open_clients() -> int:
    """How many shared clients are open in this process (for tests and benchmarks)."""
    return sum(1 for shared in _clients.values() if shared.client is not None)
