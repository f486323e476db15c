"""The model-quality page with 90 days of runs: how long it takes to render, and the AWS calls a view makes.

90 (and, side by side, 7) training runs are written to the test's Airflow database as the training DAG
leaves them (a run, its note, the XComs the page reads), and the page is fetched through the plugin's
app in process. The run tab is read for one real execution: the first view's calls, and a second
view's (an ended execution is read once). Prints the figures; asserts only that a view of the page
makes no AWS call and a repeated tab view none either.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.client import BaseClient

DAG_ID = "model_quality_benchmark"
ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn/{}"


def seed_runs(days: int, dag_id: str) -> None:
    """`days` training runs, one per day, with a decision, a package and the XComs the page reads."""
    from airflow import settings
    from airflow.models import DagRun
    from airflow.models.xcom import XComModel
    from airflow.utils.state import DagRunState
    from airflow.utils.types import DagRunType
    from sqlalchemy.orm import Session

    first = datetime(2024, 1, 1, tzinfo=UTC)
    # The XComs without their task instances (which need a serialized DAG's version): what the page reads.
    with settings.engine.connect() as connection, Session(bind=connection) as session:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
        for index in range(days):
            day = first + timedelta(days=index)
            run_id = f"scheduled__data-{day:%Y-%m-%d}__{day + timedelta(days=1):%Y-%m-%dT00:00:00+00:00}"
            outcome = ("APPROVED", "REJECTED", "NOT PROMOTED")[index % 3]
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
        session.commit()
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")


@pytest.fixture
def aws_calls(monkeypatch) -> list[str]:
    calls: list[str] = []
    real = BaseClient._make_api_call

    def counted(self: Any, operation: str, parameters: dict) -> Any:
        calls.append(operation)
        return real(self, operation, parameters)

    monkeypatch.setattr(BaseClient, "_make_api_call", counted)
    return calls


def median_seconds(client: Any, path: str, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        assert client.get(path).status_code == 200
        times.append(time.perf_counter() - started)
    return statistics.median(times)


@pytest.mark.perf
def test_ninety_days_of_runs_render_in_well_under_a_second_with_no_aws_call(
        client, aws_calls, run_training_dag, deployment) -> None:
    seed_runs(90, DAG_ID)
    seed_runs(7, f"{DAG_ID}_week")
    del aws_calls[:]
    ninety = median_seconds(client, f"/dags/{DAG_ID}/model-quality")
    week = median_seconds(client, f"/dags/{DAG_ID}_week/model-quality")
    assert client.get(f"/dags/{DAG_ID}/model-quality").text.count("class='point'") == 90
    page_calls = len(aws_calls)

    gate = run_training_dag(conf={"min_auc_threshold": 0.99})  # a real execution for the run tab
    del aws_calls[:]
    path = f"/dags/sagemaker_training_pipeline/runs/{gate.run_id}/execution"
    started = time.perf_counter()
    assert client.get(path).status_code == 200
    first_view = time.perf_counter() - started
    first_calls = list(aws_calls)
    del aws_calls[:]
    again = median_seconds(client, path)
    print(f"\nmodel-quality page: 90 days {ninety * 1000:.0f} ms, 7 days {week * 1000:.0f} ms "
          f"(x{ninety / week:.1f} for x12.9 the runs); AWS calls per page view: {page_calls}")
    print(f"run tab: first view {first_view * 1000:.0f} ms with {len(first_calls)} AWS calls "
          f"({', '.join(sorted(set(first_calls)))}); again {again * 1000:.0f} ms with {len(aws_calls)} "
          f"(x{first_view / again:.1f})")
    assert page_calls == 0 and aws_calls == []
