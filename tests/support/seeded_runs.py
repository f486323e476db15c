"""Training runs written to the test's Airflow database as the training DAG leaves them (a run, its note, the
XComs the model-quality page reads), and a count of the AWS calls a test makes: the page's history at scale."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.client import BaseClient

ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn/{}"
FIRST_DAY = datetime(2024, 1, 1, tzinfo=UTC)
OUTCOMES = ("APPROVED", "REJECTED", "NOT PROMOTED")  # the seeded runs' outcomes, in turn


def seed_runs(days: int, dag_id: str) -> None:
    """`days` training runs, one per day, with a decision, a package and the XComs the page reads."""
    from airflow import settings
    from sqlalchemy.orm import Session

    # The XComs without their task instances (which need a serialized DAG's version): what the page reads.
    with settings.engine.connect() as connection, Session(bind=connection) as session:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
        try:
            for index in range(days):
                _seed_day(session, dag_id, index)
            session.commit()
        finally:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")  # the pooled connection goes back as it came


def _seed_day(session: Any, dag_id: str, index: int) -> None:
    from airflow.models import DagRun
    from airflow.models.xcom import XComModel
    from airflow.utils.state import DagRunState
    from airflow.utils.types import DagRunType

    day = FIRST_DAY + timedelta(days=index)
    run_id = f"scheduled__data-{day:%Y-%m-%d}__{day + timedelta(days=1):%Y-%m-%dT00:00:00+00:00}"
    outcome = OUTCOMES[index % 3]
    run = DagRun(dag_id=dag_id, run_id=run_id, run_type=DagRunType.SCHEDULED, logical_date=day,
                 state=DagRunState.SUCCESS, start_date=day, note=f"**{outcome}** · data {day:%Y-%m-%d}")
    run.end_date = day + timedelta(minutes=20)
    session.add(run)
    session.flush()
    values = {
        ("choose_partition", "return_value"): {"data_day": f"{day:%Y-%m-%d}"},
        ("read_metrics", "return_value"): {"metrics": {"auc": 0.75 + index % 10 / 100},
                                           "model_package_arn": ARN.format(index + 1),
                                           "execution_arn": f"arn:aws:sagemaker:us-east-1:1:pipeline/p/execution/{index}",
                                           "data_quality": {"violations": []}},
        ("decide_model", "decision"): {"outcome": outcome.lower().replace(" ", "_"), "champion_value": 0.8,
                                       "basis": {"threshold": 0.7, "metric": {"name": "auc"}}},
        ("wait_for_execution", "return_value"): {"execution_status": "Succeeded"},
    }
    for (task_id, key), value in values.items():
        XComModel.set(key, value, dag_id=dag_id, task_id=task_id, run_id=run_id, session=session)


@pytest.fixture
def seeded_history(airflow_environment: None) -> Iterator[Callable[[int, str], None]]:
    """`seed_runs`, with the seeded runs and XComs removed after the test: the worker's tests share its database."""
    from airflow.models import DagRun
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import delete

    seeded: list[str] = []

    def seed(days: int, dag_id: str) -> None:
        seeded.append(dag_id)
        seed_runs(days, dag_id)

    yield seed
    with create_session() as session:
        session.execute(delete(XComModel).where(XComModel.dag_id.in_(seeded)))
        session.execute(delete(DagRun).where(DagRun.dag_id.in_(seeded)))


@pytest.fixture
def aws_calls(monkeypatch) -> list[str]:
    calls: list[str] = []
    real = BaseClient._make_api_call

    def counted(self: Any, operation: str, parameters: dict) -> Any:
        calls.append(operation)
        return real(self, operation, parameters)

    monkeypatch.setattr(BaseClient, "_make_api_call", counted)
    return calls
