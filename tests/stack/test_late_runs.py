"""A training run past its deadline is reported LATE once while it goes on, on the native stack (the
scheduler sets the deadline, the triggerer sends the alert); a run that ends in time sends none."""

from __future__ import annotations

import urllib.error
import urllib.parse
from datetime import date

import boto3
import pytest

from devtools.local_airflow.environment import BUCKET, REGION
from tests.stack.runs import eventually, finished, reports_about, run_state, task_instance, trigger
from tests.support.declarations import partition_uri

DEADLINE_VARIABLE = "sagemaker_pipelines_deadline_hours"
LATE_DAY = date(2031, 1, 1)  # no data until the test lands it: the run waits in choose_partition meanwhile


def set_deadline_hours(api, value: str | None) -> None:
    """The deadline Variable set to `value`, or deleted (None)."""
    try:
        api.call(f"/api/v2/variables/{urllib.parse.quote(DEADLINE_VARIABLE)}", method="DELETE")
    except urllib.error.HTTPError as error:
        if error.code != 404:
            raise
    if value is not None:
        api.call("/api/v2/variables", body={"key": DEADLINE_VARIABLE, "value": value})


@pytest.mark.timeout(600)
def test_a_run_past_its_deadline_is_reported_late_once_while_it_goes_on_and_a_run_in_time_is_not(
    stack, api
) -> None:
    s3 = boto3.session.Session(region_name=REGION).client("s3", endpoint_url=stack.endpoint_url)
    late_day = partition_uri(BUCKET, LATE_DAY)
    set_deadline_hours(api, "0.001")  # 3.6 s after the run is queued
    try:
        late = trigger(api, {"input_data_url": late_day, "wait_for_data_minutes": 30})
        [alert] = eventually(lambda: reports_about(stack, "[LATE]", late), "the LATE alert", timeout=300)
        assert run_state(api, late) == "running"
        assert task_instance(api, late, "choose_partition")["state"] == "deferred"  # still waiting for its data
        assert "Outcome: late" in alert and f"DAG run: sagemaker_training_pipeline / {late}" in alert
        assert "still running" in alert and "no execution of" in alert and "started yet" in alert

        # The data lands: the run trains and ends, and no second alert comes.
        source = next(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="raw-data/")["Contents"]
                      if o["Key"].endswith(".csv") and LATE_DAY.isoformat() not in o["Key"])
        s3.copy_object(Bucket=BUCKET, Key=f"{late_day.removeprefix(f's3://{BUCKET}/')}dataset.csv",
                       CopySource={"Bucket": BUCKET, "Key": source})
        assert finished(api, late) == "success"
        assert reports_about(stack, "[LATE]", late) == []

        set_deadline_hours(api, "6")
        in_time = trigger(api, {"wait_for_data_minutes": 0})
        assert finished(api, in_time) == "success"
        assert reports_about(stack, "[LATE]", in_time) == []
    finally:
        set_deadline_hours(api, None)


@pytest.mark.timeout(300)
def test_a_deadline_variable_that_is_not_hours_fails_the_run_at_once_naming_it(stack, api) -> None:
    set_deadline_hours(api, "two hours")
    try:
        run_id = trigger(api, {"wait_for_data_minutes": 0})
        assert finished(api, run_id) == "failed"
        assert task_instance(api, run_id, "choose_partition")["state"] == "failed"
        assert task_instance(api, run_id, "start_execution")["state"] == "upstream_failed"
        note = api.call(f"/api/v2/dags/sagemaker_training_pipeline/dagRuns/{urllib.parse.quote(run_id, safe='')}")["note"]
        assert note.startswith("**FAILED** at choose_partition") and (
            "Airflow Variable sagemaker_pipelines_deadline_hours='two hours' is invalid: expected the hours") in note
    finally:
        set_deadline_hours(api, None)
