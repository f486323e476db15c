"""deploy/helm/values.yaml: what README "Deploy it" promises of it, in names Airflow and the DAG know."""

from __future__ import annotations

import yaml

from devtools.local_airflow.environment import stack_variables
from tests.conftest import PROJECT_ROOT

VALUES = yaml.safe_load((PROJECT_ROOT / "deploy" / "helm" / "values.yaml").read_text())


def test_celery_with_spare_schedulers_triggerers_and_workers() -> None:
    assert VALUES["executor"] == "CeleryExecutor"
    assert VALUES["airflowVersion"] == "3.3.2"
    for component in ("scheduler", "triggerer", "workers"):
        assert VALUES[component]["replicas"] >= 2, component


def test_the_connection_and_every_variable_of_the_local_stacks_come_from_the_secret() -> None:
    from_secret = {entry["envName"] for entry in VALUES["secret"]}
    assert "AIRFLOW_CONN_AWS_DEFAULT" in from_secret
    required = set(stack_variables(sns_topic_arn="arn:aws:sns:::topic")) - {"sagemaker_pipelines_poll_seconds"}
    assert {f"AIRFLOW_VAR_{name.upper()}" for name in required} <= from_secret


def test_the_recovery_settings_are_airflow_options() -> None:
    from airflow.configuration import conf

    for section, options in VALUES["config"].items():
        for option, value in options.items():
            assert conf.has_option(section, option), f"[{section}] {option} is not an Airflow 3.3 option"
            assert int(value) > 0
