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
from typing import Any

import pytest

DAG_ID = "model_quality_benchmark"


def median_seconds(client: Any, path: str, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        assert client.get(path).status_code == 200
        times.append(time.perf_counter() - started)
    return statistics.median(times)


@pytest.mark.perf
def test_ninety_days_of_runs_render_in_well_under_a_second_with_no_aws_call(
        client, aws_calls, seeded_history, run_training_dag, deployment) -> None:
    seeded_history(90, DAG_ID)
    seeded_history(7, f"{DAG_ID}_week")
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
    assert first_calls, "the counter saw the run tab's calls: it would see the page's"
    assert page_calls == 0 and aws_calls == []
