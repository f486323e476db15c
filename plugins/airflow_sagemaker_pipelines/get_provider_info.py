"""What `airflow providers list` shows of this package, and what Airflow loads from it when it is pip-installed.

Named in pyproject.toml as the `apache_airflow_provider` entry point, as the Amazon provider names its
own `get_provider_info`. tests/packaging checks that it lists every hook, operator, sensor, trigger and
link module of the package, and that an Airflow with the package installed (and no plugins folder)
shows it, loads the plugin (its own entry point) and resolves the links.
"""

from __future__ import annotations

from typing import Any

from . import __version__

INTEGRATION = "Amazon SageMaker Pipelines"
PACKAGE = "airflow_sagemaker_pipelines"


def get_provider_info() -> dict[str, Any]:
    def modules(kind: str, *names: str) -> list[dict[str, Any]]:
        return [{"integration-name": INTEGRATION, "python-modules": [f"{PACKAGE}.{kind}.{name}" for name in names]}]

    return {
        "package-name": "airflow-sagemaker-pipelines",
        "name": "SageMaker Pipelines",
        "description": "Run Amazon SageMaker Pipelines from Airflow: idempotent starts, deferred waits logged step "
                       "by step, the evaluation read, the model package approved or rejected, deployed and "
                       "scored, reports sent.",
        "versions": [__version__],
        "integrations": [{"integration-name": INTEGRATION, "tags": ["aws"],
                          "external-doc-url": "https://docs.aws.amazon.com/sagemaker/latest/dg/pipelines.html"}],
        "hooks": modules("hooks", "endpoint_hosting", "job_logs", "model_registry", "pipeline_definition",
                         "pipeline_execution", "provider_clients", "shared_async_clients", "transient_errors"),
        "operators": modules("operators", "data_partition", "data_quality_baseline", "deployment_plan",
                             "endpoint_checks", "endpoint_deployment", "evaluation", "model_approval", "model_decision",
                             "model_review", "monitoring_check", "monitoring_input", "monitoring_plan", "new_partition",
                             "notify_deployment", "notify_monitoring", "notify_run", "notify_scoring", "run_leaf_report",
                             "scoring_input", "scoring_output", "scoring_plan", "scoring_transform", "start_pipeline",
                             "upsert_pipeline"),
        "sensors": modules("sensors", "pipeline_execution"),
        "triggers": modules("triggers", "data_partition", "new_partitions", "pipeline_execution"),
        "extra-links": [f"{PACKAGE}.links.SageMakerPipelineExecutionLink", f"{PACKAGE}.links.LocalEndpointExecutionLink",
                        f"{PACKAGE}.links.SageMakerEndpointLink"],
        "notifications": [f"{PACKAGE}.hooks.provider_clients.SnsNotifier"],
        # The plugin is the `airflow.plugins` entry point (pyproject.toml): Airflow loads a provider's
        # "plugins" only with [core] lazy_discover_providers off, and would then load it twice.
    }
