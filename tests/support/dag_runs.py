"""Fixtures that run the training DAG for real with dag.test(): SQLite DB, the local endpoint, SNS -> SQS.

Shared by tests/e2e and tests/perf (registered in the root conftest)."""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest

from tests.conftest import AIRFLOW_HOME, PROJECT_ROOT
from tests.support.constants import DAG_ID, PIPELINE_DAY, ROLE_ARN


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """The tests' SQLite metadata DB (AIRFLOW_HOME from tests/conftest.py): a copy of `make run`'s prepared one."""
    from devtools.local_airflow.prepared_metadata_db import copy_prepared_db

    copy_prepared_db(AIRFLOW_HOME / "airflow.db")


@pytest.fixture(scope="session")
def notifications(endpoint_client) -> dict[str, str]:
    """An SNS topic with an SQS queue subscribed: what the DAG publishes can be read back."""
    sns, sqs = endpoint_client("sns"), endpoint_client("sqs")
    topic = sns.create_topic(Name="training-dag-tests")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="training-dag-tests")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    return {"topic_arn": topic, "queue_url": queue_url}


@pytest.fixture(scope="session")
def airflow_environment(endpoint: str, airflow_db: None, notifications: dict[str, str]) -> Iterator[None]:
    from devtools.local_airflow.environment import aws_connection_uri_json

    values = {
        "AIRFLOW_CONN_AWS_DEFAULT": aws_connection_uri_json(endpoint),
        "AIRFLOW_VAR_SAGEMAKER_PIPELINES_SNS_TOPIC_ARN": notifications["topic_arn"],
        "AIRFLOW_VAR_SAGEMAKER_PIPELINES_POLL_SECONDS": "0.5",
    }
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def dag_bag(airflow_environment: None) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"))
    assert not bag.import_errors, bag.import_errors
    return bag


@pytest.fixture(scope="session")
def training_dag(dag_bag: Any) -> Any:
    return dag_bag.dags[DAG_ID]


@dataclass(frozen=True)
class Deployment:
    """One test's own pipeline and model package group, so tests do not see each other's models."""

    pipeline_name: str
    model_package_group: str
    bucket: str


@pytest.fixture
def deployment(request: pytest.FixtureRequest, seeded_bucket: str, monkeypatch: pytest.MonkeyPatch) -> Deployment:
    name = re.sub(r"[^a-zA-Z0-9]+", "-", request.node.name.removeprefix("test_"))[:40].strip("-")
    found = Deployment(f"dag-{name}", f"models-{name}", seeded_bucket)
    monkeypatch.setenv("AIRFLOW_VAR_SAGEMAKER_PIPELINES_SETTINGS", json.dumps({
        "bucket": found.bucket, "role_arn": ROLE_ARN,
        "pipeline_name": found.pipeline_name, "model_package_group": found.model_package_group,
    }))
    return found


@dataclass
class DagRunResult:
    run_id: str
    state: str
    task_states: dict[str, str | None]
    xcoms: dict[tuple[str, str], Any]
    log: str  # what the tasks and the trigger logged; dag.test() runs them in this process
    note: str | None = None  # the DAG run's note


def data_day_run_date(day: date) -> datetime:
    """The logical date of a manual run for day D: D itself (the DAG's DataDayTimetable)."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def dag_runner(dag: Any, capfd: pytest.CaptureFixture[str]) -> Iterator[Callable[..., DagRunResult]]:
    """Runs of `dag` with dag.test(), for a data day; the run's result read back."""
    # Running a task in process merges the run's conf into the task's params, in place; give
    # each run the defaults back.
    default_params = {task.task_id: copy.deepcopy(task.params) for task in dag.tasks}

    def reset_params() -> None:
        for task in dag.tasks:
            task.params = copy.deepcopy(default_params[task.task_id])

    def run(conf: dict[str, Any] | None = None, day: date = PIPELINE_DAY, run_after: datetime | None = None,
            mark_success_pattern: str | None = None) -> DagRunResult:
        reset_params()
        capfd.readouterr()
        dag_run = dag.test(logical_date=data_day_run_date(day), run_conf=conf, run_after=run_after,
                           mark_success_pattern=mark_success_pattern)
        return run_result(dag_run, capfd)

    yield run
    reset_params()


@pytest.fixture
def run_training_dag(training_dag: Any, capfd: pytest.CaptureFixture[str]) -> Iterator[Callable[..., DagRunResult]]:
    yield from dag_runner(training_dag, capfd)


def run_result(dag_run: Any, capfd: pytest.CaptureFixture[str]) -> DagRunResult:
    """What a finished dag.test() run left: task states, every XCom, and what it logged."""
    from airflow.models import DagRun, TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    captured = capfd.readouterr()
    with create_session() as session:
        note = session.scalars(select(DagRun).where(
            DagRun.dag_id == dag_run.dag_id, DagRun.run_id == dag_run.run_id)).one().note
        tis = session.scalars(select(TaskInstance).where(
            TaskInstance.dag_id == dag_run.dag_id, TaskInstance.run_id == dag_run.run_id)).all()
        rows = session.scalars(select(XComModel).where(
            XComModel.dag_id == dag_run.dag_id, XComModel.run_id == dag_run.run_id)).all()
        xcoms = {(row.task_id, row.key): XComModel.deserialize_value(row) for row in rows}
        return DagRunResult(dag_run.run_id, str(dag_run.state), {ti.task_id: ti.state for ti in tis}, xcoms,
                            captured.out + captured.err, note)


@pytest.fixture
def run_tasks(airflow_environment: None, request: pytest.FixtureRequest,
              capfd: pytest.CaptureFixture[str]) -> Callable[..., DagRunResult]:
    """Run a few operators for real, in a DAG of their own: `run_tasks(lambda: [Operator(...)])`.

    The callable builds the tasks inside the DAG (native rendering, as the training DAG renders);
    @task functions in it stand for the upstream tasks whose XComs an operator reads.
    """
    from airflow.sdk import DAG

    runs = iter(range(1_000))

    def run(build: Callable[[], Any], *, logical_date: datetime | None = None, run_after: datetime | None = None,
            conf: dict[str, Any] | None = None) -> DagRunResult:
        name = re.sub(r"[^a-zA-Z0-9_]+", "_", request.node.name)[:150]
        with DAG(dag_id=f"test__{name}__{next(runs)}", schedule=None, start_date=datetime(2024, 1, 1, tzinfo=UTC),
                 render_template_as_native_obj=True, default_args={"retries": 0}) as dag:
            build()
        _write_serialized_dag(dag)
        capfd.readouterr()
        dag_run = dag.test(logical_date=logical_date, run_after=run_after, run_conf=conf)
        return run_result(dag_run, capfd)

    return run


def _write_serialized_dag(dag: Any) -> None:
    """What the dag-processor does for a DAG file, for a DAG that lives in a test: dag.test() needs it."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.collection import update_dag_parsing_results_in_db
    from airflow.serialization.serialized_objects import LazyDeserializedDAG
    from airflow.utils.session import create_session

    manager = DagBundlesManager()
    with create_session() as session:
        manager.sync_bundles_to_db(session=session)
    bundle = next(iter(manager.get_all_dag_bundles()))
    with create_session() as session:
        update_dag_parsing_results_in_db(bundle.name, None, [LazyDeserializedDAG.from_dag(dag)], {}, None, set(),
                                         session=session)


@pytest.fixture
def received_notifications(endpoint_client, notifications: dict[str, str]) -> Callable[[], list[dict[str, str]]]:
    """Drain the queue: each SNS message as {'Subject': ..., 'Message': ...}."""
    sqs = endpoint_client("sqs")

    def drain() -> list[dict[str, str]]:
        received = []
        while True:
            batch = sqs.receive_message(QueueUrl=notifications["queue_url"], MaxNumberOfMessages=10,
                                        WaitTimeSeconds=0).get("Messages", [])
            if not batch:
                return received
            for message in batch:
                envelope = json.loads(message["Body"])
                received.append({"Subject": envelope.get("Subject"), "Message": envelope["Message"]})
                sqs.delete_message(QueueUrl=notifications["queue_url"], ReceiptHandle=message["ReceiptHandle"])

    drain()  # what earlier tests left behind (PurgeQueue allows one call a minute)
    return drain
