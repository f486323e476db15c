"""Every DAG imports cleanly, fast, without the SageMaker SDK or an AWS client, and is well formed."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest

from tests.conftest import PROJECT_ROOT

DAG_ID = "sagemaker_training_pipeline"
SAGEMAKER_TASKS = ("start_execution", "wait_for_execution")

# Runs in a fresh interpreter: what a DAG processor pays and imports when it parses dags/.
PARSE_PROBE = textwrap.dedent("""
    import json, sys
    import boto3.session, botocore.session
    created = []
    real_client = botocore.session.Session.create_client
    def counting_client(self, *args, **kwargs):
        created.append(args[0] if args else kwargs.get("service_name"))
        return real_client(self, *args, **kwargs)
    botocore.session.Session.create_client = counting_client
    from airflow.dag_processing.dagbag import DagBag
    bag = DagBag(dag_folder=sys.argv[1])
    print(json.dumps({
        "dag_ids": sorted(bag.dag_ids),
        "import_errors": {str(k): str(v) for k, v in bag.import_errors.items()},
        "sdk_modules": sorted(m for m in sys.modules if m == "sagemaker" or m.startswith("sagemaker.")),
        "heavy_modules": sorted(m for m in ("moto", "pandas", "xgboost", "sklearn", "include.local_sagemaker")
                                if m in sys.modules),
        "clients_created": created,
    }))
""")


@pytest.fixture(scope="module")
def parse_report() -> dict:
    completed = subprocess.run([sys.executable, "-c", PARSE_PROBE, str(PROJECT_ROOT / "dags")],
                               capture_output=True, text=True, check=True, cwd=PROJECT_ROOT)
    return json.loads(completed.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def dag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"))
    assert not bag.import_errors, bag.import_errors
    return bag.dags[DAG_ID]


def test_dags_import_without_errors(parse_report: dict) -> None:
    assert parse_report["import_errors"] == {}
    assert parse_report["dag_ids"] == [DAG_ID]


def test_parsing_imports_no_sagemaker_sdk_and_creates_no_aws_client(parse_report: dict) -> None:
    assert parse_report["sdk_modules"] == []
    assert parse_report["clients_created"] == []
    assert parse_report["heavy_modules"] == []


def test_dag_is_documented_tagged_and_bounded(dag) -> None:
    assert dag.doc_md and "ds=" in dag.doc_md
    assert {"sagemaker", "mlops"} <= set(dag.tags)
    assert dag.catchup is False
    assert 1 <= dag.max_active_runs <= 5
    assert type(dag.timetable).__name__ == "CronDataIntervalTimetable"  # runs own their day: backfillable


@pytest.mark.parametrize("task_id", ["upsert_pipeline", "start_execution", "wait_for_execution", "read_metrics",
                                     "decide_model", "approve_model", "reject_model", "notify"])
def test_every_task_has_owner_doc_timeout_retries_and_failure_callback(dag, task_id: str) -> None:
    task = dag.get_task(task_id)
    assert task.owner == "ml-platform"
    assert task.doc_md
    assert task.execution_timeout is not None and task.execution_timeout > timedelta(0)
    assert task.retries >= (0 if task_id == "wait_for_execution" else 1)
    assert task.on_failure_callback


def test_sagemaker_tasks_share_the_pool_and_the_wait_is_deferred(dag) -> None:
    for task_id in SAGEMAKER_TASKS:
        assert dag.get_task(task_id).pool == "sagemaker_pipelines"
    wait = dag.get_task("wait_for_execution")
    assert wait.deferrable and wait.stop_on_kill
    assert wait.quality_gate_steps == ("ModelQualityTooLow",)
    assert wait.execution_timeout > timedelta(seconds=wait.timeout)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("min_auc_threshold", 1.5, "1.5 is greater than the maximum of 1"),
        ("min_auc_threshold", "high", "'high' is not of type 'number'"),
        ("training_instance_type", "m5.xlarge", "does not match"),
        ("input_data_url", "http://example.com/data", "does not match"),
        ("model_approval_status", "approved", "is not one of"),
        ("notify", "yes", "is not of type 'boolean'"),
    ],
)
def test_trigger_form_refuses_bad_values_with_a_clear_message(dag, name: str, value: object, message: str) -> None:
    from airflow.sdk.exceptions import ParamValidationError

    params = copy.deepcopy(dag.params)
    with pytest.raises(ParamValidationError, match=f"Invalid input for param {name}: .*{re.escape(message)}"):
        params.update({name: value})  # what triggering with this conf does
        params.validate()


def test_defaults_are_valid_and_partition_url_defaults_to_the_runs_own_day(dag) -> None:
    resolved = dag.params.validate()
    assert resolved["input_data_url"] is None and 0 < resolved["min_auc_threshold"] < 1
    start = dag.get_task("start_execution")
    assert "day_of_run(data_interval_start" in start.pipeline_params["InputDataUrl"]
