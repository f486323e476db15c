"""The scoring DAG end to end on the local endpoint: each data day scored by a real batch transform job with
the model that was live for it, published under scores/ds=<day>/ with the model's version, run again safely."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from tests.local_sagemaker.serving import xgboost_artifact
from tests.support.constants import ROLE_ARN
from tests.support.dag_runs import dag_runner
from tests.support.declarations import CLASSIFICATION
from tests.support.registry import register_package

SCORING_DAG_ID = CLASSIFICATION.scoring.dag_id  # type: ignore[union-attr]
FEATURES = list(CLASSIFICATION.scoring.features)  # type: ignore[union-attr]
SCORED = {"choose_model": "success", "choose_partition": "success", "prepare_input": "success",
          "create_model": "success", "score": "success", "publish_scores": "success", "notify": "success"}
ROWS = 300


@pytest.fixture
def scoring(request, endpoint_client, monkeypatch) -> dict[str, Any]:
    """A bucket and a model package group of the test's own, in the settings Variable."""
    from devtools.sample_data.partitions import seed_partitions

    name = request.node.name.removeprefix("test_").replace("_", "-")[:30].strip("-")
    bucket, group = f"scoring-{name}"[:63].strip("-"), f"scoring-{name}"
    seed_partitions(endpoint_client("s3"), bucket, date(2024, 3, 1), date(2024, 3, 3), rows=ROWS)
    monkeypatch.setenv("AIRFLOW_VAR_SAGEMAKER_PIPELINES_SETTINGS", json.dumps({
        "bucket": bucket, "role_arn": ROLE_ARN, "model_package_group": group, "scoring_name": name[:30]}))
    return {"bucket": bucket, "group": group, "name": name[:30]}


@pytest.fixture
def run_scoring_dag(dag_bag, capfd) -> Iterator[Any]:
    yield from dag_runner(dag_bag.dags[SCORING_DAG_ID], capfd)


def booster(seed: int) -> Any:
    """An XGBoost model on the pipeline's 8 features; another seed scores the rows otherwise."""
    import numpy as np
    import xgboost as xgb

    features = np.random.default_rng(seed).integers(0, 6, size=(400, len(FEATURES))).astype(float)
    labels = (features[:, seed % len(FEATURES)] > 2).astype(int)
    return xgb.train({"objective": "binary:logistic", "max_depth": 2}, xgb.DMatrix(features, label=labels), 5)


def approved_model(endpoint_client: Any, scoring: dict[str, Any], learned_from: str, seed: int) -> str:
    artifact = xgboost_artifact(endpoint_client("s3"), scoring["bucket"], booster(seed))
    return register_package(endpoint_client, scoring["group"], scoring["bucket"], 0.8, data_day=learned_from,
                            model_data_url=artifact)


def published(endpoint_client: Any, bucket: str, day: str) -> dict[str, Any]:
    """What scores/ds=<day>/ holds: each object's metadata, its lines, and the summary."""
    s3 = endpoint_client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=f"scores/ds={day}/").get("Contents", [])]
    found: dict[str, Any] = {"objects": {}, "summary": None}
    for key in keys:
        answer = s3.get_object(Bucket=bucket, Key=key)
        body = answer["Body"].read().decode()
        if key.endswith("_summary.json"):
            found["summary"] = json.loads(body)
        else:
            found["objects"][key] = {"metadata": answer["Metadata"], "lines": body.splitlines()}
    return found


def transform_jobs(endpoint_client: Any, scoring: dict[str, Any]) -> list[str]:
    jobs = endpoint_client("sagemaker").list_transform_jobs(NameContains=scoring["name"], MaxResults=100)
    return sorted(job["TransformJobName"] for job in jobs["TransformJobSummaries"])


def test_a_day_is_scored_with_the_model_live_for_it_and_a_rerun_starts_no_second_job(
    run_scoring_dag, scoring, endpoint_client
) -> None:
    live = approved_model(endpoint_client, scoring, "2024-02-29", seed=1)
    newest = approved_model(endpoint_client, scoring, "2024-03-02", seed=2)  # approved after the day: not live for it

    run = run_scoring_dag(day=date(2024, 3, 1))
    assert run.state == "success" and run.task_states == SCORED, run.log[-3000:]
    assert run.xcoms[("choose_model", "return_value")]["model_package_arn"] == live
    scores = published(endpoint_client, scoring["bucket"], "2024-03-01")
    [(key, written)] = scores["objects"].items()
    assert key == "scores/ds=2024-03-01/dataset.csv"
    assert written["metadata"]["model-package-version"] == "1" and written["metadata"]["model-package-arn"] == live
    assert len(written["lines"]) == ROWS
    ids_and_scores = [line.split(",") for line in written["lines"]]
    assert [row_id for row_id, _ in ids_and_scores] == [f"dataset.csv:{line}" for line in range(2, ROWS + 2)]
    assert all(0.0 <= float(score) <= 1.0 for _, score in ids_and_scores)
    summary = scores["summary"]
    assert summary["rows"] == ROWS and sum(summary["counts"]) == ROWS and 0 <= summary["positive_share"] <= 1
    assert run.note.startswith("**SCORED** · data 2024-03-01 ·")
    assert f"{ROWS:,} rows scored by version 1, learned from 2024-02-29" in run.note
    [job] = transform_jobs(endpoint_client, scoring)
    assert job == f"{scoring['name']}-20240301-v1"

    again = run_scoring_dag(day=date(2024, 3, 1))  # a cleared or repeated run
    assert again.state == "success", again.task_states
    assert "completed before (a retry or a clear)" in again.log
    assert transform_jobs(endpoint_client, scoring) == [job]
    assert published(endpoint_client, scoring["bucket"], "2024-03-01")["objects"][key]["lines"] == written["lines"]

    champion = run_scoring_dag(day=date(2024, 3, 1), conf={"model": "champion"})  # today's champion, by the form
    assert champion.state == "success", champion.task_states
    rescored = published(endpoint_client, scoring["bucket"], "2024-03-01")
    assert list(rescored["objects"]) == [key]
    assert rescored["objects"][key]["metadata"]["model-package-arn"] == newest
    assert rescored["objects"][key]["lines"] != written["lines"]


def test_a_backfill_across_a_champion_change_scores_each_day_with_the_model_of_its_time(
    run_scoring_dag, scoring, endpoint_client
) -> None:
    first = approved_model(endpoint_client, scoring, "2024-02-28", seed=3)
    second = approved_model(endpoint_client, scoring, "2024-03-01", seed=4)  # learned from the first day scored

    served = {}
    for day in (date(2024, 3, 1), date(2024, 3, 2), date(2024, 3, 3)):
        run = run_scoring_dag(day=day)
        assert run.state == "success", (day, run.task_states)
        [written] = published(endpoint_client, scoring["bucket"], day.isoformat())["objects"].values()
        served[day.isoformat()] = written["metadata"]["model-package-arn"]
    assert served == {"2024-03-01": first, "2024-03-02": second, "2024-03-03": second}
    result = run.xcoms[("publish_scores", "return_value")]
    assert result["previous_day"] == "2024-03-02" and result["psi"] is not None and result["psi"] >= 0
    assert "Score shift against 2024-03-02: PSI" in run.note
    assert len(transform_jobs(endpoint_client, scoring)) == 3


def test_a_day_with_no_model_before_it_fails_with_the_reason_unless_the_same_days_model_may_score_it(
    run_scoring_dag, scoring, endpoint_client, monkeypatch
) -> None:
    same_day = approved_model(endpoint_client, scoring, "2024-03-01", seed=5)  # learned from the day itself

    run = run_scoring_dag(day=date(2024, 3, 1))
    assert run.state == "failed" and run.task_states["choose_model"] == "failed"
    assert run.task_states["score"] == "upstream_failed" and run.task_states["notify"] == "failed"
    reason = f"No model was live for 2024-03-01: no Approved package in {scoring['group']} learned from a day before it"
    assert reason in run.log
    assert run.note.startswith(f"**FAILED** at choose_model: {reason}")
    assert transform_jobs(endpoint_client, scoring) == []
    assert published(endpoint_client, scoring["bucket"], "2024-03-01")["objects"] == {}

    # The settings say a day is scored by the model trained on it, once approved.
    settings = json.loads(os.environ["AIRFLOW_VAR_SAGEMAKER_PIPELINES_SETTINGS"])
    monkeypatch.setenv("AIRFLOW_VAR_SAGEMAKER_PIPELINES_SETTINGS",
                       json.dumps({**settings, "scoring_uses_same_day_model": True}))
    scored = run_scoring_dag(day=date(2024, 3, 1))
    assert scored.state == "success", scored.task_states
    [written] = published(endpoint_client, scoring["bucket"], "2024-03-01")["objects"].values()
    assert written["metadata"]["model-package-arn"] == same_day


def test_a_malformed_partition_fails_naming_the_file_row_and_column(run_scoring_dag, scoring, endpoint_client) -> None:
    approved_model(endpoint_client, scoring, "2024-02-29", seed=6)
    s3 = endpoint_client("s3")
    header = ",".join(["had_affair", *FEATURES])
    rows = [",".join(["0", *["1"] * len(FEATURES)]) for _ in range(3)]
    rows[1] = ",".join(["0", "1", "forty", *["1"] * (len(FEATURES) - 2)])
    s3.put_object(Bucket=scoring["bucket"], Key="raw-data/ds=2024-03-02/extra.csv",
                  Body="\n".join([header, *rows]).encode())

    run = run_scoring_dag(day=date(2024, 3, 2))
    assert run.state == "failed" and run.task_states["prepare_input"] == "failed"
    reason = f"s3://{scoring['bucket']}/raw-data/ds=2024-03-02/extra.csv row 3: column age is 'forty', not a number"
    assert reason in run.log and reason in run.note
    assert transform_jobs(endpoint_client, scoring) == []
