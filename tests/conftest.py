"""Every test runs fail-closed: fake credentials, no metadata probe, no connection off loopback."""

from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

pytest_plugins = ["tests.dag_runs"]

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
})

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
    from include.local_sagemaker.server import LocalSageMakerEndpoint

    server = LocalSageMakerEndpoint("127.0.0.1", 0, tmp_path_factory.mktemp("endpoint-work"))
    url = server.start()
    yield url
    server.stop()


@pytest.fixture(scope="session")
def aws(endpoint: str):
    """Factory of boto3 clients bound to the endpoint."""
    import boto3

    session = boto3.session.Session(region_name="us-east-1")

    def client(service: str):
        return session.client(service, endpoint_url=endpoint)

    return client


# --- the classification pipeline on the endpoint (tests/pipelines, tests/perf) -----------
PIPELINE_BUCKET = "ml-pipeline-tests"
PIPELINE_DAY = date(2024, 3, 1)


@pytest.fixture(scope="session")
def session(endpoint: str):
    """A boto3 session whose every client (the SDK's too) reaches the local endpoint."""
    from include.pipelines.sdk_session import boto3_session

    return boto3_session("us-east-1", endpoint)


@pytest.fixture(scope="session")
def seeded_bucket(session) -> str:
    from include.data.partitions import seed_partitions

    seed_partitions(session.client("s3"), PIPELINE_BUCKET, PIPELINE_DAY, PIPELINE_DAY)
    return PIPELINE_BUCKET


@pytest.fixture(scope="session")
def settings(seeded_bucket: str):
    from include.pipelines.settings import PipelineSettings

    return PipelineSettings(region="us-east-1", role_arn="arn:aws:iam::123456789012:role/SageMakerPipelineRole",
                            bucket=seeded_bucket, pipeline_name="classification-test")


@pytest.fixture(scope="session")
def day_uri(seeded_bucket: str) -> str:
    from include.data.partitions import partition_uri

    return partition_uri(seeded_bucket, PIPELINE_DAY)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    import shutil

    shutil.rmtree(AIRFLOW_HOME, ignore_errors=True)


# --- clients and a scratch bucket for tests that drive the endpoint directly -------------
@pytest.fixture(scope="module")
def sagemaker(aws):
    return aws("sagemaker")


@pytest.fixture(scope="module")
def s3(aws):
    return aws("s3")


@pytest.fixture(scope="module")
def bucket(s3) -> str:
    from tests.local_sagemaker.pipelines import unique

    name = unique("bucket")
    s3.create_bucket(Bucket=name)
    return name

