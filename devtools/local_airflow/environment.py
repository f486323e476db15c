"""What an Airflow process needs to run this project's DAGs on this machine, against a given endpoint.

Three parts, kept apart because they live in different places:
- `airflow_environment`: the process's configuration (env vars): home, dags/ and plugins/, the
  metadata DB, fake AWS credentials. No secret: the local endpoint accepts any credentials.
- `aws_connection` and `stack_variables`: the `aws_default` connection and the Variables. The stacks
  (`make airflow`, docker-compose.yaml) seed them into the metadata DB (metadata_seed.py), where the
  UI edits them; `make run`, a one-shot `airflow dags test`, passes them as env vars
  (`settings_as_environment`).
- `FAULT_RECOVERY`: the scheduler and triggerer settings that bring a task back within about a
  minute after a scheduler, triggerer or worker dies (docker-compose.yaml sets the same).
- `PROMPT_TASK_ENDS`: the worker setting that bounds how late a task's end is noticed (the same).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from devtools.airflow_speedups import speedups_environment

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
BUCKET = "ml-pipeline-data"
ROLE_ARN = "arn:aws:iam::123456789012:role/SageMakerPipelineRole"
POOLS_FILE = PROJECT_ROOT / "deploy" / "airflow-pools.json"  # the DAG's pools, as a deployment imports them
# The garbage collector's thresholds for a process that runs Airflow and whole DAG runs in itself
# (`make run`'s `airflow dags test`, the test processes): the young objects are looked at every
# 100,000 allocations instead of every 700. Airflow, the SDK and the in-process execution API's app
# allocate millions that live to the end (building that app: 3.0 s with the defaults, 2.3 s so).
IN_PROCESS_GC_THRESHOLDS = (100_000, 50, 100)
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
    "SAGEMAKER_VALIDATE_ROLE": "false",
}
# Airflow's defaults reset a task orphaned by a dead scheduler only after ~5 minutes (orphan check
# every 300 s) and fail a task whose worker died after 300 s without a heartbeat. Here: a dead
# scheduler is recognised 30 s after its last heartbeat (the default, which a busy scheduler on a
# loaded machine must not exceed) and its tasks reset at the next check, every 10 s; a task
# without heartbeat (its worker killed; the supervisor heartbeats every 5 s) fails after 45 s and
# is retried; a dead triggerer's triggers move to a live one 30 s after its last heartbeat.
FAULT_RECOVERY = {
    "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_THRESHOLD": "30",
    "AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": "10",
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "45",
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
    "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "30",
}

# Airflow 3.3.2's task supervisor notices its task's exit on the EOF of the task's sockets; when the
# last EOF wakes it before the kernel lets it reap the process, it waits on no socket at all until the
# next heartbeat is due: `min_heartbeat_interval`, 5 s by default. On this 2-core machine that was
# 20 of 83 tasks of a 7-day backfill, each reported done exactly 5.0 s late. A late report of a
# deferral also opens Airflow's resume-after-defer race (apache/airflow#67287: the trigger fires,
# the task is queued again, then the stale "success" of the deferral fails it to a retry; fixed after
# 3.3.2 for a queued task, #72716 still open for a running one). A heartbeat every second bounds the
# late report to 1 s, for one more small API call per running task per second.
PROMPT_TASK_ENDS = {
    "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "1",
}


def aws_connection(endpoint_url: str) -> dict[str, Any]:
    """`aws_default` for the local endpoint, as Airflow's JSON connection format has it (the package's
    hooks bring their retry policy: the connection needs none)."""
    return {"conn_type": "aws", "login": "local", "password": "local",
            "extra": {"region_name": REGION, "endpoint_url": endpoint_url}}


def aws_connection_uri_json(endpoint_url: str) -> str:
    """The connection as an AIRFLOW_CONN_* value."""
    return json.dumps(aws_connection(endpoint_url))


def stack_variables(sns_topic_arn: str | None = None, poll_seconds: float = 1,
                    pipeline_settings: dict | None = None) -> dict[str, str]:
    """The DAGs' Variables: each example pipeline's settings (bucket, role; `pipeline_settings` replaces the
    classification pipeline's), the SNS topic, the wait's poll interval."""
    from devtools.sample_data.partitions import DEFAULT_PIPELINE, declaration, sample_pipelines

    variables = {declaration(pipeline).settings_variable: json.dumps({"bucket": BUCKET, "role_arn": ROLE_ARN})
                 for pipeline in sample_pipelines()}
    if pipeline_settings:
        variables[declaration(DEFAULT_PIPELINE).settings_variable] = json.dumps(pipeline_settings)
    variables["sagemaker_pipelines_poll_seconds"] = str(poll_seconds)
    if sns_topic_arn:
        variables["sagemaker_pipelines_sns_topic_arn"] = sns_topic_arn
    return variables


def airflow_environment(airflow_home: Path, database_url: str | None = None) -> dict[str, str]:
    """Env vars for airflow CLI processes (or os.environ before Airflow is imported); SQLite in the home by default."""
    return {
        **FAKE_AWS,
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database_url or f"sqlite:///{airflow_home / 'airflow.db'}",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        # `airflow dags test` (make run) fails a DAG with a deadline as it ends on Airflow 3.3.2; a stack turns them on.
        "SAGEMAKER_PIPELINES_LATE_RUN_ALERTS": "false",
        # The project and its plugin importable; the local speed-ups switched on (devtools/airflow_speedups).
        **speedups_environment(os.pathsep.join([str(PROJECT_ROOT), str(PROJECT_ROOT / "plugins")])),
    }


def settings_as_environment(endpoint_url: str, sns_topic_arn: str | None = None, poll_seconds: float = 1,
                            pipeline_settings: dict | None = None) -> dict[str, str]:
    """The connection and the Variables as AIRFLOW_CONN_*/AIRFLOW_VAR_* (`make run`: one process, no UI to edit them)."""
    env = {"AIRFLOW_CONN_AWS_DEFAULT": json.dumps(aws_connection(endpoint_url))}
    for name, value in stack_variables(sns_topic_arn, poll_seconds, pipeline_settings).items():
        env[f"AIRFLOW_VAR_{name.upper()}"] = value
    return env


def airflow_cli(env: dict[str, str], *args: str, check: bool = True, capture: bool = True) -> subprocess.CompletedProcess:
    """Run `airflow <args>` from this virtualenv with `env` on top of the current environment."""
    airflow = Path(sys.executable).with_name("airflow")
    return subprocess.run(
        [str(airflow), *args], env={**os.environ, **env}, check=check, text=True,
        capture_output=capture, cwd=PROJECT_ROOT,
    )


def prepare_metadata_db(env: dict[str, str]) -> None:
    """Migrate the SQLite DB and create the DAG's pools (deploy/airflow-pools.json: executions, registry decisions)."""
    home = Path(env.get("AIRFLOW_HOME") or os.environ["AIRFLOW_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    airflow_cli(env, "db", "migrate")
    airflow_cli(env, "pools", "import", str(POOLS_FILE))
