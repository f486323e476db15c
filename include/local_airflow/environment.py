"""The environment an Airflow process needs to run this project's DAGs against a given endpoint.

Everything is configuration (env vars): the `aws_default` connection with the endpoint URL and
fake credentials, the pipeline settings, SNS topic and poll interval Variables, SQLite, and the
dags/ and plugins/ folders. No secret is involved: the local endpoint accepts any credentials.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
BUCKET = "ml-pipeline-data"
ROLE_ARN = "arn:aws:iam::123456789012:role/SageMakerPipelineRole"
POOLS_FILE = Path(__file__).with_name("pools.json")  # the DAG's pools; docker-compose imports the same file
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
    "SAGEMAKER_VALIDATE_ROLE": "false",
}


def aws_connection_uri_json(endpoint_url: str) -> str:
    return json.dumps({
        "conn_type": "aws",
        "login": "local",
        "password": "local",
        "extra": {"region_name": REGION, "endpoint_url": endpoint_url},
    })


def airflow_environment(
    airflow_home: Path,
    endpoint_url: str,
    sns_topic_arn: str | None = None,
    poll_seconds: float = 1,
    pipeline_settings: dict | None = None,
) -> dict[str, str]:
    """Env vars for airflow CLI processes (or os.environ before Airflow is imported)."""
    settings = pipeline_settings or {"bucket": BUCKET, "role_arn": ROLE_ARN}
    env = {
        **FAKE_AWS,
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home / 'airflow.db'}",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS": "include.local_airflow.sqlite_settings.CONNECT_ARGS",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS_ASYNC": "include.local_airflow.sqlite_settings.CONNECT_ARGS_ASYNC",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW_CONN_AWS_DEFAULT": aws_connection_uri_json(endpoint_url),
        "AIRFLOW_VAR_SAGEMAKER_PIPELINES_SETTINGS": json.dumps(settings),
        "AIRFLOW_VAR_SAGEMAKER_PIPELINES_POLL_SECONDS": str(poll_seconds),
        "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), str(PROJECT_ROOT / "plugins")]),
    }
    if sns_topic_arn:
        env["AIRFLOW_VAR_SAGEMAKER_PIPELINES_SNS_TOPIC_ARN"] = sns_topic_arn
    return env


def airflow_cli(env: dict[str, str], *args: str, check: bool = True, capture: bool = True) -> subprocess.CompletedProcess:
    """Run `airflow <args>` from this virtualenv with `env` on top of the current environment."""
    airflow = Path(sys.executable).with_name("airflow")
    return subprocess.run(
        [str(airflow), *args], env={**os.environ, **env}, check=check, text=True,
        capture_output=capture, cwd=PROJECT_ROOT,
    )


def prepare_metadata_db(env: dict[str, str]) -> None:
    """Migrate the SQLite DB and create the DAG's pools (pools.json: executions, registry decisions)."""
    home = Path(env.get("AIRFLOW_HOME") or os.environ["AIRFLOW_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    airflow_cli(env, "db", "migrate")
    airflow_cli(env, "pools", "import", str(POOLS_FILE))
