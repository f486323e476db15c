"""A stack of a test module's own, its Airflow reaching the endpoint through a proxy that can hold back one answer."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from devtools.local_airflow.stack import LocalAirflowStack
from tests.resilience.held_responses import HoldingProxy, holding_proxy
from tests.stack.runs import new_stack_home, remove_stack_home, warn_of_crashes


@contextmanager
def proxied_stack(**options: Any) -> Iterator[tuple[LocalAirflowStack, HoldingProxy]]:
    """`LocalAirflowStack(**options)` in a new home, removed after the stack stopped."""
    home = new_stack_home()
    stack = LocalAirflowStack(home, **options)
    with holding_proxy(stack.endpoint_url) as proxy:
        stack.airflow_endpoint_url = proxy.url
        with stack:
            yield stack, proxy
    warn_of_crashes(stack)
    remove_stack_home(home)
