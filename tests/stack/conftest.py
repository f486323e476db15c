from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from devtools.local_airflow.environment import REGION
from devtools.local_airflow.stack import LocalAirflowStack
from tests.stack.runs import SEEDED_DAYS, Api, new_stack_home, remove_stack_home, unclean_stop, warn_of_crashes


@pytest.fixture
def stack_home() -> Iterator[Path]:
    home = new_stack_home()
    yield home
    remove_stack_home(home)


@pytest.fixture(scope="package")
def stack() -> Iterator[LocalAirflowStack]:
    """`make airflow`'s stack on free loopback ports, shared by this package's tests, stopped after them."""
    home = new_stack_home()
    with LocalAirflowStack(home, seed_days=SEEDED_DAYS, poll_seconds=1) as running:
        yield running
    warn_of_crashes(running)
    if unclean := unclean_stop(running):
        pytest.fail(f"not a clean stop (logs kept in {home / 'logs'}):\n{unclean}")
    remove_stack_home(home)


@pytest.fixture(scope="package")
def api(stack: LocalAirflowStack) -> Api:
    return Api(stack)


@pytest.fixture(scope="package")
def stack_sagemaker(stack: LocalAirflowStack):
    """A SageMaker client on the stack's own endpoint (not the session-wide one in tests/conftest.py)."""
    return boto3.session.Session(region_name=REGION).client("sagemaker", endpoint_url=stack.endpoint_url)
