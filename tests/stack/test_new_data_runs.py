"""New data starts training on the native stack: the bucket notifies SQS, the new-data DAG's asset watcher (in the
triggerer) starts a run, and one SageMaker execution trains the partition, however many times it is announced and
whether the day's scheduled training run comes too."""

from __future__ import annotations

import time
import urllib.parse
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from airflow_sagemaker_pipelines.execution_identity import run_digest
from airflow_sagemaker_pipelines.timetables import DataDayTimetable

from devtools.local_airflow.environment import BUCKET, REGION
from tests.stack.runs import PIPELINE, eventually, finished
from tests.support.constants import DAG_ID
from tests.support.declarations import CLASSIFICATION

NEW_DATA_DAG_ID = CLASSIFICATION.events.dag_id  # type: ignore[union-attr]
QUEUE = CLASSIFICATION.events.queue  # type: ignore[union-attr]


def runs_of(api, dag_id: str) -> list[dict]:
    return sorted(api.call(f"/api/v2/dags/{dag_id}/dagRuns")["dag_runs"], key=lambda run: run["queued_at"])


def executions_for_day(sagemaker, owner_run_id: str) -> list[dict]:
    digest = run_digest(DAG_ID, owner_run_id)
    try:
        summaries = sagemaker.list_pipeline_executions(PipelineName=PIPELINE, MaxResults=100)
    except sagemaker.exceptions.ResourceNotFound:  # not upserted yet: the first run creates it
        return []
    return [e for e in summaries["PipelineExecutionSummaries"] if digest in e.get("PipelineExecutionDisplayName", "")]


def messages_left(sqs, queue: str) -> int:
    counts = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(counts["ApproximateNumberOfMessages"]) + int(counts["ApproximateNumberOfMessagesNotVisible"])


def all_finished(api, dag_id: str) -> list[dict]:
    """The DAG's runs, once none is queued or running."""
    return eventually(lambda: (runs := runs_of(api, dag_id)) and all(r["state"] in ("success", "failed") for r in runs)
                      and runs, f"the end of {dag_id}'s runs", timeout=600, every=1)


@pytest.mark.timeout(900)
def test_a_new_partition_trains_in_one_execution_whoever_announces_it_and_the_days_scheduled_run_shares_it(
        stack, api, stack_sagemaker) -> None:
    session = boto3.session.Session(region_name=REGION)
    s3, sqs = (session.client(name, endpoint_url=stack.endpoint_url) for name in ("s3", "sqs"))
    queue = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    sqs.purge_queue(QueueUrl=queue)  # what other tests' uploads announced
    api.wait_for_dag(NEW_DATA_DAG_ID)
    api.call(f"/api/v2/dags/{NEW_DATA_DAG_ID}", body={"is_paused": False}, method="PATCH")
    # The watcher runs once the unpaused DAG is parsed again: it is reading the queue when a stray message is gone.
    sqs.send_message(QueueUrl=queue, MessageBody="not an S3 event")
    eventually(lambda: messages_left(sqs, queue) == 0, "the watcher reading its queue", timeout=300, every=1)
    # Yesterday: the day whose scheduled run the scheduler creates when the training DAG is unpaused (no one
    # may create a scheduled__ run by hand), before this test or after its new-data run.
    day = datetime.now(UTC).date() - timedelta(days=1)
    owner = DataDayTimetable(CLASSIFICATION.cron, timezone="UTC").scheduled_run_id(day)  # type: ignore[arg-type]
    try:
        seeded = next(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=f"raw-data/ds={day}/")["Contents"]
                      if o["Key"].endswith(".csv"))
        landed = time.time()
        for part in ("late-1.csv", "late-2.csv", "late-1.csv"):  # two new files of the day, one written twice
            s3.copy_object(Bucket=BUCKET, Key=f"raw-data/ds={day}/{part}", CopySource={"Bucket": BUCKET, "Key": seeded})
        s3.put_object(Bucket=BUCKET, Key=f"elsewhere/ds={day}/x.csv", Body=b"1\n")  # not announced

        # One run or several (the watcher may read the notifications in more than one poll): one execution.
        runs = all_finished(api, NEW_DATA_DAG_ID)
        assert {run["state"] for run in runs} == {"success"}, runs
        started = task_instance_of(api, NEW_DATA_DAG_ID, runs[0]["dag_run_id"], "start_execution")
        seconds = datetime.fromisoformat(started["end_date"]).timestamp() - landed
        print(f"\nNew data to its execution started (the watcher running): {seconds:.1f} s (upload -> S3 "
              f"notification -> SQS -> asset watcher -> DAG run -> StartPipelineExecution); {len(runs)} run(s)")

        # The day's scheduled training run: it gets the same execution back, whether it came first or now.
        api.call(f"/api/v2/dags/{DAG_ID}", body={"is_paused": False}, method="PATCH")
        eventually(lambda: any(r["dag_run_id"] == owner for r in runs_of(api, DAG_ID)), f"run {owner}")
        assert finished(api, owner) == "success"
        [execution] = executions_for_day(stack_sagemaker, owner)
        arns = {task_instance_of(api, dag_id, run_id, "wait_for_execution")["rendered_fields"]["pipeline_exec_arn"]
                for dag_id, run_id in [*((NEW_DATA_DAG_ID, run["dag_run_id"]) for run in runs), (DAG_ID, owner)]}
        assert arns == {execution["PipelineExecutionArn"]}
        assert all_finished(api, NEW_DATA_DAG_ID) == runs  # the other prefix and the stray message started nothing
    finally:
        api.call(f"/api/v2/dags/{NEW_DATA_DAG_ID}", body={"is_paused": True}, method="PATCH")


def task_instance_of(api, dag_id: str, run_id: str, task_id: str) -> dict:
    return api.call(f"/api/v2/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id, safe='')}/taskInstances/{task_id}")
