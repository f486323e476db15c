"""Every test runs fail-closed: fake credentials, no metadata probe, no connection off loopback.

This file holds only that environment, the socket guard and the session's local endpoint;
the shared fixtures live in tests/support/.
"""

from __future__ import annotations

import gc
import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.airflow_speedups import SESSION_FACTORY, caller_name
from devtools.local_airflow.environment import IN_PROCESS_GC_THRESHOLDS

# The test processes run Airflow, the SDK and whole DAG runs in process, as `make run`'s `airflow dags
# test` does: its collector thresholds (tests/e2e/test_training_dag.py: 12% less CPU).
gc.set_threshold(*IN_PROCESS_GC_THRESHOLDS)

pytest_plugins = [
    "tests.support.endpoint_clients", "tests.support.pipeline", "tests.support.dag_runs", "tests.support.parallel",
    "tests.support.deployed_models", "tests.support.ui_client", "tests.support.seeded_runs",
]

FAKE_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "SAGEMAKER_VALIDATE_ROLE": "false",
}
for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
    os.environ.pop(name, None)
os.environ.update(FAKE_ENVIRONMENT)

# Airflow reads its configuration when first imported: point it at a throwaway home and
# SQLite DB, this project's dags/ and plugins/, before any test imports it.
PROJECT_ROOT = Path(__file__).resolve().parents[1]
AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="airflow-tests-"))
os.environ.update({
    "AIRFLOW_HOME": str(AIRFLOW_HOME),
    "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
    "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{AIRFLOW_HOME / 'airflow.db'}",
    # dag.test() fails a DAG with a deadline as it ends on Airflow 3.3.2; the stacks' schedulers run them.
    "SAGEMAKER_PIPELINES_LATE_RUN_ALERTS": "false",
})

# The local speed-ups, as make run and the local stacks have them (devtools/airflow_speedups): tests run
# Airflow, the provider's hooks and whole DAG runs in their own processes too.
os.environ["AIRFLOW__AWS__SESSION_FACTORY"] = SESSION_FACTORY
caller_name.install()

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_loopback(address: object) -> bool:
    if isinstance(address, tuple) and address:
        host = str(address[0])
        return host.startswith("127.") or host in ("::1", "localhost")
    return True  # unix sockets


class NetworkBlocked(RuntimeError):
    pass


def _guarded_connect(self: socket.socket, address: object) -> None:
    if not _is_loopback(address):
        raise NetworkBlocked(f"test tried to reach {address}: only 127.0.0.1 is allowed")
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    if not _is_loopback(address):
        raise NetworkBlocked(f"test tried to reach {address}: only 127.0.0.1 is allowed")
    return _real_connect_ex(self, address)


socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The local SageMaker endpoint on a free loopback port, stopped after the session."""
    from devtools.local_sagemaker.server import LocalSageMakerEndpoint

    server = LocalSageMakerEndpoint("127.0.0.1", 0, tmp_path_factory.mktemp("endpoint-work"))
    url = server.start()
    yield url
    server.stop()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    import shutil

    shutil.rmtree(AIRFLOW_HOME, ignore_errors=True)
