"""The monitoring DAG end to end on the local endpoint: a deployed model's captured requests checked each day
against the baseline of the data it learned from: DATA OK for requests like its data, DATA DRIFT naming the
feature for drifted ones, NOT CHECKED (and why) when capture is off."""

from __future__ import annotations

import io
import json
import os
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from devtools.sample_data.data_faults import DataFault
from devtools.sample_data.partitions import daily_partition
from tests.support.dag_runs import dag_runner
from tests.support.declarations import CLASSIFICATION
from tests.support.deployed_models import captured_on, captured_records, endpoint_name, trained_and_approved

MONITORING_DAG_ID = CLASSIFICATION.data_quality.monitoring_dag_id  # type: ignore[union-attr]
FEATURES = list(CLASSIFICATION.scoring.features)  # type: ignore[union-attr]
ROWS = 400


@pytest.fixture
def run_monitoring_dag(dag_bag, capfd) -> Any:
    yield from dag_runner(dag_bag.dags[MONITORING_DAG_ID], capfd)


def send_requests(endpoint_client: Any, endpoint: str, fault: str | None = None) -> None:
    """ROWS rows of the sample data's features, drifted when asked, in requests of 50 rows."""
    frame = daily_partition(date(2024, 3, 9), rows=ROWS)
    if fault:
        frame = DataFault.parse(fault).apply(frame, seed=3)
    runtime = endpoint_client("sagemaker-runtime")
    for start in range(0, ROWS, 50):
        buffer = io.StringIO()
        frame[FEATURES].iloc[start:start + 50].to_csv(buffer, index=False, header=False)
        runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=buffer.getvalue().encode())


def test_each_days_requests_are_checked_against_the_served_models_baseline(
        run_training_dag, run_deploy_dag, run_monitoring_dag, deployment, endpoint_client, monkeypatch,
        received_notifications, client) -> None:
    s3 = endpoint_client("s3")
    settings = json.loads(os.environ["AIRFLOW_VAR_SAGEMAKER_PIPELINES_SETTINGS"])
    off = run_monitoring_dag(day=datetime.now(UTC).date() - timedelta(days=1))  # capture is off by default
    assert off.state == "success", off.task_states
    assert off.note.startswith("**NOT CHECKED**") and "data_capture_percent is 0" in off.note
    assert off.task_states["prepare_requests"] == "skipped" and off.task_states["check_data"] == "skipped"

    monkeypatch.setenv("AIRFLOW_VAR_SAGEMAKER_PIPELINES_SETTINGS", json.dumps({**settings, "data_capture_percent": 100}))
    package = trained_and_approved(run_training_dag)
    deployed = run_deploy_dag()
    assert deployed.state == "success", deployed.task_states
    endpoint = endpoint_name(deployment)
    smoke_rows = deployed.xcoms[("smoke_test", "return_value")]["rows"]
    captured_records(s3, deployment.bucket, f"data-capture/{endpoint}/AllTraffic/", smoke_rows)
    for item in s3.list_objects_v2(Bucket=deployment.bucket, Prefix=f"data-capture/{endpoint}/").get("Contents", []):
        s3.delete_object(Bucket=deployment.bucket, Key=item["Key"])  # the smoke test's held-out rows: not the day's
    received_notifications()

    clean_day, drifted_day = datetime.now(UTC).date() - timedelta(days=2), datetime.now(UTC).date() - timedelta(days=1)
    send_requests(endpoint_client, endpoint)
    captured_records(s3, deployment.bucket, f"data-capture/{endpoint}/AllTraffic/", ROWS)
    captured_on(s3, deployment.bucket, endpoint, clean_day)
    send_requests(endpoint_client, endpoint, fault="drift:age=3")
    captured_records(s3, deployment.bucket, f"data-capture/{endpoint}/AllTraffic/{datetime.now(UTC):%Y/%m/%d}/",
                     ROWS)
    captured_on(s3, deployment.bucket, endpoint, drifted_day)

    clean = run_monitoring_dag(day=clean_day)
    assert clean.state == "success", clean.task_states
    plan = clean.xcoms[("choose_baseline", "return_value")]
    baseline = endpoint_client("sagemaker").describe_model_package(ModelPackageName=package)["DriftCheckBaselines"]
    assert plan["model_package_arn"] == package
    assert plan["baseline_statistics"] == baseline["ModelDataQuality"]["Statistics"]["S3Uri"]
    assert clean.xcoms[("prepare_requests", "return_value")]["rows"] == ROWS
    assert clean.note.startswith("**DATA OK**") and f"{ROWS} request row(s)" in clean.note

    drifted = run_monitoring_dag(day=drifted_day)
    assert drifted.state == "success", drifted.task_states
    first_line = drifted.note.split("\n", 1)[0]
    assert first_line.startswith("**DATA DRIFT**") and "DATA DRIFT: age" in first_line
    assert "- age: drift (baseline mean " in drifted.note
    [ok, told] = received_notifications()
    assert ok["Subject"].startswith("[DATA OK]")
    assert told["Subject"].startswith("[DATA DRIFT]") and "age: drift (baseline mean" in told["Message"]

    # The model-quality page shows the deployment and the monitored days beside the training runs.
    found = client.get("/api/dags/sagemaker_training_pipeline/model-quality").json()
    assert found["model_package_group"] == deployment.model_package_group
    assert [(d["model_package_version"], d["outcome"]) for d in found["deployments"]] == [(1, "deployed")]
    [served] = found["deployments"]
    assert served["served_from"] == served["ended"] and served["served_to"] is None  # serving since its deploy
    assert [(m["day"], m["outcome"], m["drifted_features"]) for m in found["monitoring"]] == [
        (clean_day.isoformat(), "data_ok", []), (drifted_day.isoformat(), "data_drift", ["age"])]
    page = client.get("/dags/sagemaker_training_pipeline/model-quality").text
    assert page.count("class='deployed'") == 1 and "Data monitoring" in page
    assert page.count("class='served'") == 1 and page.count("class='monitored-day'") == 2  # the endpoint's timeline

    again = run_monitoring_dag(day=drifted_day)  # a repeated run attaches to the day's job
    assert again.xcoms[("check_data", "return_value")]["job_name"] == drifted.xcoms[
        ("check_data", "return_value")]["job_name"]
    assert "completed before (a retry or a clear)" in again.log
