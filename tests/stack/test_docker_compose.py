"""docker-compose.yaml, as a real Compose implementation (Debian's docker-compose) reads it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
import yaml

from devtools.airflow_speedups import SESSION_FACTORY
from devtools.local_airflow.environment import FAULT_RECOVERY, PROMPT_TASK_ENDS
from tests.conftest import PROJECT_ROOT

AIRFLOW_SERVICES = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer")
CELERY_SERVICES = ("redis", "airflow-worker")
SECRETS = {"AIRFLOW_JWT_SECRET": "test-jwt-secret", "AIRFLOW_ADMIN_PASSWORD": "test-password"}


def compose_config(*profiles: str, **env: str) -> subprocess.CompletedProcess:
    executable = shutil.which("docker-compose")
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("docker-compose is not installed: .ci/run installs Debian's docker-compose")
        pytest.skip("docker-compose is not installed (apt-get install docker-compose)")
    clean = {k: v for k, v in os.environ.items()
             if k not in SECRETS and not k.startswith("AIRFLOW") and k != "COMPOSE_PROFILES"}
    options = [option for profile in profiles for option in ("--profile", profile)]
    return subprocess.run([executable, *options, "config"], cwd=PROJECT_ROOT, env={**clean, **env},
                          capture_output=True, text=True)


@pytest.fixture(scope="module")
def compose() -> dict:
    """The whole file, every profile active (Compose v2 leaves inactive profiles out of `config`)."""
    completed = compose_config("celery", "flower", **SECRETS)
    assert completed.returncode == 0, completed.stderr
    return yaml.safe_load(completed.stdout)


def published(port: str | dict) -> tuple[str, str]:
    """(host address, host port) of a port mapping as `config` prints it: short syntax (v1) or long (v2)."""
    if isinstance(port, dict):
        return str(port.get("host_ip", "")), str(port.get("published", ""))
    parts = port.split("/")[0].split(":")
    if len(parts) == 3:
        return parts[0], parts[1]
    return "", parts[0] if len(parts) == 2 else ""  # "8080:8080" binds every interface; "8080" publishes none


def test_compose_file_has_the_airflow_3_services_the_endpoint_postgres_and_the_celery_profiles(compose: dict) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", "local-sagemaker", "airflow-init", *AIRFLOW_SERVICES, *CELERY_SERVICES,
                             "flower"}
    for name in AIRFLOW_SERVICES:
        assert services[name]["command"] in ("api-server", "scheduler", "dag-processor", "triggerer")
        assert not services[name].get("profiles")
    assert all(services[name]["profiles"] == ["celery"] for name in CELERY_SERVICES)
    assert services["flower"]["profiles"] == ["flower"]


def test_every_published_port_is_bound_to_loopback(compose: dict) -> None:
    ports = {name: [published(port) for port in service.get("ports", [])] for name, service in compose["services"].items()}
    assert ports["airflow-apiserver"] == [("127.0.0.1", "8080")]
    bound_elsewhere = {name: mappings for name, mappings in ports.items()
                       if any(address != "127.0.0.1" for address, _ in mappings)}
    assert bound_elsewhere == {}
    assert not ports["postgres"] and not ports["redis"]  # reached over the compose network only


def test_every_long_running_service_has_a_healthcheck_and_waits_for_what_it_needs(compose: dict) -> None:
    services = compose["services"]
    for name, service in services.items():
        if name != "airflow-init":
            assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    for name in (*AIRFLOW_SERVICES, "airflow-worker"):
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["local-sagemaker"]["condition"] == "service_healthy"
        assert depends["airflow-init"]["condition"] == "service_completed_successfully"
    assert services["airflow-worker"]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert not services["local-sagemaker"].get("depends_on")


def test_celery_workers_answer_celery_inspect_ping_and_refuse_another_executor(compose: dict) -> None:
    worker = compose["services"]["airflow-worker"]
    assert "inspect ping" in " ".join(worker["healthcheck"]["test"])
    assert worker["deploy"]["replicas"] == 2
    script = worker["command"][-1]
    assert "CeleryExecutor" in script and "exec airflow celery worker" in script
    env = worker["environment"]
    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://:@redis:6379/0"
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql")
    assert compose["services"]["airflow-scheduler"]["environment"]["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    celery = compose_config("celery", **SECRETS, AIRFLOW_EXECUTOR="CeleryExecutor")
    assert yaml.safe_load(celery.stdout)["services"]["airflow-scheduler"]["environment"][
        "AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"


def test_the_endpoint_runs_without_capabilities_and_listens_on_the_compose_network(compose: dict) -> None:
    endpoint = compose["services"]["local-sagemaker"]
    assert endpoint["cap_drop"] == ["ALL"] and not endpoint.get("cap_add")
    assert "no-new-privileges:true" in endpoint["security_opt"]
    assert endpoint["user"] != "0:0"
    command = endpoint["command"]
    assert command[command.index("--host") + 1] == "0.0.0.0" and "--allow-remote" in command


def test_project_folders_are_mounted_into_the_development_image_with_the_local_speedups(compose: dict) -> None:
    for name in ("airflow-scheduler", "airflow-triggerer", "airflow-dag-processor", "airflow-worker"):
        service = compose["services"][name]
        targets = {volume["target"] if isinstance(volume, dict) else volume.split(":")[1] for volume in service["volumes"]}
        assert {"/opt/airflow/dags", "/opt/airflow/plugins", "/opt/airflow/include", "/opt/airflow/devtools"} <= targets
        assert service["environment"]["PYTHONPATH"].split(":") == [
            "/opt/airflow", "/opt/airflow/devtools/airflow_speedups/local_settings"]
        assert service["environment"]["AIRFLOW__AWS__SESSION_FACTORY"] == SESSION_FACTORY
        assert service["build"]["context"] == str(PROJECT_ROOT)
        assert service["build"]["target"] == "development"


def test_fault_recovery_and_prompt_task_end_settings_are_the_native_stacks(compose: dict) -> None:
    expected = FAULT_RECOVERY | PROMPT_TASK_ENDS
    for name in (*AIRFLOW_SERVICES, "airflow-worker"):
        env = compose["services"][name]["environment"]
        assert {key: env.get(key) for key in expected} == expected, name


def connection_extra(value: str) -> dict:
    """The extra of a connection, URI or JSON, parsed the way Airflow parses it."""
    from airflow.models.connection import Connection

    connection = Connection.from_json(value, conn_id="aws_default") if value.startswith("{") else Connection(
        conn_id="aws_default", uri=value)
    return connection.extra_dejson


def test_the_connection_and_variables_are_seeded_into_the_db_not_set_in_the_environment(compose: dict) -> None:
    for name, service in compose["services"].items():
        overriding = [key for key in service.get("environment", {}) if key.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_"))]
        assert overriding == [], f"{name}: {overriding} would silently win over the metadata DB"
    init = compose["services"]["airflow-init"]
    assert "devtools.local_airflow.metadata_seed" in init["command"][-1]
    assert connection_extra(init["environment"]["AWS_CONNECTION"]) == {
        "region_name": "us-east-1", "endpoint_url": "http://local-sagemaker:4566"}  # the hooks bring the retries
    variables = json.loads(init["environment"]["SEED_VARIABLES"])
    assert variables["sagemaker_pipelines_settings"]["bucket"] == "ml-pipeline-data"
    assert variables["sagemaker_pipelines_sns_topic_arn"].startswith("arn:aws:sns:")
    assert compose["services"]["airflow-scheduler"]["environment"]["AIRFLOW__API_AUTH__JWT_SECRET"] == SECRETS[
        "AIRFLOW_JWT_SECRET"]


def test_real_aws_is_a_few_overrides_in_dot_env() -> None:
    real = json.dumps({"conn_type": "aws", "extra": {"region_name": "eu-west-1"}})
    role = "arn:aws:iam::210987654321:role/MlPipeline"
    completed = compose_config(**SECRETS, AWS_CONNECTION=real, PIPELINE_BUCKET="team-ml",
                               PIPELINE_ROLE_ARN=role, SEED_LOCAL_STACK="false")
    assert completed.returncode == 0, completed.stderr
    init = yaml.safe_load(completed.stdout)["services"]["airflow-init"]["environment"]
    assert connection_extra(init["AWS_CONNECTION"]) == {"region_name": "eu-west-1"}
    assert json.loads(init["SEED_VARIABLES"])["sagemaker_pipelines_settings"] == {"bucket": "team-ml", "role_arn": role}
    assert init["SEED_LOCAL_STACK"] == "false"


def test_missing_secrets_are_refused_with_a_message_naming_them() -> None:
    completed = compose_config()
    assert completed.returncode != 0
    assert "set AIRFLOW_JWT_SECRET in .env" in completed.stderr


def dockerfile_stages() -> dict[str, list[str]]:
    """Stage name -> its instructions (continuation lines joined), in the Dockerfile's order."""
    stages: dict[str, list[str]] = {}
    lines = (PROJECT_ROOT / "Dockerfile").read_text().replace("\\\n", " ").splitlines()
    current = None
    for line in (line.strip() for line in lines):
        if line.startswith("FROM "):
            current = line.split(" AS ")[-1]
            stages[current] = [line]
        elif line and not line.startswith("#") and current:
            stages[current].append(line)
    return stages


def test_the_default_image_is_production_the_official_image_with_the_runtime_and_the_product_only() -> None:
    stages = dockerfile_stages()
    assert list(stages)[-1] == "production"  # `docker build .` builds the last stage
    production = stages["production"]
    assert production[0] == "FROM apache/airflow:${AIRFLOW_VERSION}-python${PYTHON_VERSION} AS production"
    copied = [line.split()[-2] for line in production if line.startswith("COPY")]
    assert copied == ["requirements.lock", "dags/", "plugins/", "include/"]
    assert "RUN pip install --no-cache-dir --require-hashes -r /opt/airflow/requirements.lock" in production
    ignored = [line for line in (PROJECT_ROOT / ".dockerignore").read_text().splitlines()
               if line and not line.startswith("#")]
    assert ignored[0] == "*"  # everything out, then only these in
    assert [line for line in ignored if line.startswith("!")] == [
        "!dags/", "!plugins/", "!include/", "!requirements.lock", "!requirements-dev.lock"]


def test_the_development_image_adds_the_local_tools_requirements_on_python_311() -> None:
    development = dockerfile_stages()["development"]
    assert development[0] == "FROM apache/airflow:${AIRFLOW_VERSION}-python3.11 AS development"
    assert "RUN pip install --no-cache-dir --require-hashes -r /opt/airflow/requirements-dev.lock" in development
    assert not any(line.startswith("COPY") and ("devtools" in line or "tests" in line) for line in development)
