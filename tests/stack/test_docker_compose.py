"""docker-compose.yaml, as a real Compose implementation (Debian's docker-compose) reads it."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
import yaml

from tests.conftest import PROJECT_ROOT

AIRFLOW_SERVICES = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer")
SECRETS = {"AIRFLOW_JWT_SECRET": "test-jwt-secret", "AIRFLOW_ADMIN_PASSWORD": "test-password"}


def compose_config(**env: str) -> subprocess.CompletedProcess:
    executable = shutil.which("docker-compose")
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("docker-compose is not installed: .ci/run installs Debian's docker-compose")
        pytest.skip("docker-compose is not installed (apt-get install docker-compose)")
    clean = {k: v for k, v in os.environ.items() if k not in SECRETS and not k.startswith("AIRFLOW")}
    return subprocess.run([executable, "config"], cwd=PROJECT_ROOT, env={**clean, **env},
                          capture_output=True, text=True)


@pytest.fixture(scope="module")
def compose() -> dict:
    completed = compose_config(**SECRETS)
    assert completed.returncode == 0, completed.stderr
    return yaml.safe_load(completed.stdout)


def test_compose_file_has_the_airflow_3_services_the_endpoint_and_postgres(compose: dict) -> None:
    assert set(compose["services"]) == {"postgres", "local-sagemaker", "airflow-init", *AIRFLOW_SERVICES}
    assert compose["services"]["airflow-apiserver"]["ports"][0]["published"] in (8080, "8080")
    for name in AIRFLOW_SERVICES:
        assert compose["services"][name]["command"] in (
            "api-server", "scheduler", "dag-processor", "triggerer")


def test_every_long_running_service_has_a_healthcheck_and_waits_for_what_it_needs(compose: dict) -> None:
    services = compose["services"]
    for name, service in services.items():
        if name != "airflow-init":
            assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    for name in AIRFLOW_SERVICES:
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["local-sagemaker"]["condition"] == "service_healthy"
        assert depends["airflow-init"]["condition"] == "service_completed_successfully"
    assert not services["local-sagemaker"].get("depends_on")


def test_project_folders_are_mounted_and_include_is_importable(compose: dict) -> None:
    for name in ("airflow-scheduler", "airflow-triggerer", "airflow-dag-processor"):
        service = compose["services"][name]
        targets = {volume["target"] if isinstance(volume, dict) else volume.split(":")[1] for volume in service["volumes"]}
        assert {"/opt/airflow/dags", "/opt/airflow/plugins", "/opt/airflow/include"} <= targets
        assert service["environment"]["PYTHONPATH"] == "/opt/airflow"
        assert service["build"]["context"] == str(PROJECT_ROOT)


def connection_extra(value: str) -> dict:
    """The extra of an AIRFLOW_CONN_* value, URI or JSON, parsed the way Airflow parses it."""
    from airflow.models.connection import Connection

    connection = Connection.from_json(value, conn_id="aws_default") if value.startswith("{") else Connection(
        conn_id="aws_default", uri=value)
    return connection.extra_dejson


def test_connection_and_variables_come_from_the_environment(compose: dict) -> None:
    import json

    env = compose["services"]["airflow-scheduler"]["environment"]
    assert connection_extra(env["AIRFLOW_CONN_AWS_DEFAULT"]) == {
        "region_name": "us-east-1", "endpoint_url": "http://local-sagemaker:4566"}
    assert json.loads(env["AIRFLOW_VAR_SAGEMAKER_PIPELINES_SETTINGS"])["bucket"] == "ml-pipeline-data"
    assert env["AIRFLOW_VAR_SAGEMAKER_PIPELINES_SNS_TOPIC_ARN"].startswith("arn:aws:sns:")
    assert env["AIRFLOW__API_AUTH__JWT_SECRET"] == SECRETS["AIRFLOW_JWT_SECRET"]


def test_real_aws_is_a_few_overrides_in_dot_env(compose: dict) -> None:
    import json

    real = json.dumps({"conn_type": "aws", "extra": {"region_name": "eu-west-1"}})
    role = "arn:aws:iam::210987654321:role/MlPipeline"
    completed = compose_config(**SECRETS, AIRFLOW_CONN_AWS_DEFAULT=real, PIPELINE_BUCKET="team-ml",
                               PIPELINE_ROLE_ARN=role, SEED_LOCAL_STACK="false")
    assert completed.returncode == 0, completed.stderr
    services = yaml.safe_load(completed.stdout)["services"]
    env = services["airflow-scheduler"]["environment"]
    assert connection_extra(env["AIRFLOW_CONN_AWS_DEFAULT"]) == {"region_name": "eu-west-1"}
    assert json.loads(env["AIRFLOW_VAR_SAGEMAKER_PIPELINES_SETTINGS"]) == {"bucket": "team-ml", "role_arn": role}
    assert services["airflow-init"]["environment"]["SEED_LOCAL_STACK"] == "false"


def test_missing_secrets_are_refused_with_a_message_naming_them() -> None:
    completed = compose_config()
    assert completed.returncode != 0
    assert "set AIRFLOW_JWT_SECRET in .env" in completed.stderr


def test_image_is_built_from_requirements_txt() -> None:
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    assert "FROM apache/airflow:3.3.2-python3.11" in dockerfile
    assert "pip install --no-cache-dir -r /requirements.txt" in dockerfile
    assert "apache-airflow==3.3.2" in (PROJECT_ROOT / "requirements.txt").read_text()
