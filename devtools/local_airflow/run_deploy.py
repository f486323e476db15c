"""`make run`'s second half: the deploy DAG for the approval the training run announced, and what it left.

`airflow dags test` records the approval's asset event but starts no DAG scheduled on it (only a
scheduler does): the event is read back from the run's metadata DB and its package handed to the
deploy DAG's run, as the scheduler would. The summary: the endpoint, its status, the package version
it serves, the smoke test's metric and median latency, and one prediction for a held-out row.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from devtools.local_airflow.environment import BUCKET

if TYPE_CHECKING:
    from airflow_sagemaker_pipelines.declarations import DeploySpec


def approval_event(db_path: Path, asset_uri: str) -> dict[str, Any] | None:
    """The extra of the newest event of the asset (the approval's package), from the SQLite metadata DB."""
    with sqlite3.connect(db_path) as db:
        row = db.execute(
            "SELECT e.extra FROM asset_event e JOIN asset a ON a.id = e.asset_id WHERE a.uri = ? "
            "ORDER BY e.timestamp DESC LIMIT 1", (asset_uri,)).fetchone()
    return json.loads(row[0]) if row and row[0] else None


def deploy_after_approval(env: dict[str, str], options: argparse.Namespace, report: dict[str, Any],
                          airflow_home: Path, clients: dict[str, Any], queue_url: str) -> tuple[bool, str]:
    """Run the deploy DAG for the approval, print what it left; (deployed, why not)."""
    from airflow_sagemaker_pipelines.dag_family import model_package_asset

    from devtools.local_airflow.run_training_dag import dags_test

    declaration = options.declaration
    if report["outcome"] not in ("approved", "unchanged"):
        return False, "only an approved model is deployed"
    event = approval_event(airflow_home / "airflow.db", model_package_asset(declaration).uri)
    if not event or not event.get("model_package_version"):
        return False, "the approval emitted no asset event carrying its package"
    print(f"\nAsset event {model_package_asset(declaration).uri}: package version {event['model_package_version']} "
          f"(data {event.get('data_day')}, {str(event.get('metric')).upper()} {event.get('value')})")
    returncode, _ = dags_test(env, options, declaration.deploy.dag_id, None,
                              {"package_version": event["model_package_version"]}, airflow_home / "deploy-test.log")
    return _summarize_deployment(clients, queue_url, f"{declaration.name}-endpoint", declaration.deploy, returncode)


def _summarize_deployment(clients: dict[str, Any], queue_url: str, endpoint: str, deploy: DeploySpec,
                          returncode: int) -> tuple[bool, str]:
    sagemaker = clients["sagemaker"]
    try:
        described = sagemaker.describe_endpoint(EndpointName=endpoint)
    except sagemaker.exceptions.ClientError:
        return False, f"endpoint {endpoint} does not exist (airflow dags test exited {returncode})"
    config = sagemaker.describe_endpoint_config(EndpointConfigName=described["EndpointConfigName"])
    model = sagemaker.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
    package_arn = model["PrimaryContainer"]["ModelPackageName"]
    print(f"\nEndpoint   {endpoint}: {described['EndpointStatus']}, serving package "
          f"{package_arn.rsplit('/', 2)[-2]}/{package_arn.rsplit('/', 1)[-1]} ({described['EndpointConfigName']})")
    deploy_report = _deploy_report(clients, queue_url)
    if deploy_report:
        metrics = deploy_report.get("metrics") or {}
        shown = ", ".join(f"{name}={value:.4f}" if isinstance(value, float) else f"{name}={value}"
                          for name, value in metrics.items())
        print(f"Smoke test {shown or '-'}")
        print(f"Deploy     {deploy_report['outcome']}" + (f": {deploy_report['error']}" if deploy_report.get("error")
                                                          else ""))
    row, label = _held_out_row(clients, package_arn, deploy)
    answer = clients["sagemaker-runtime"].invoke_endpoint(EndpointName=endpoint, ContentType="text/csv",
                                                           Body=row.encode())["Body"].read().decode().strip()
    print(f"Prediction {row} -> {answer} (its label: {label})")
    if returncode != 0 or not deploy_report or deploy_report["outcome"] not in ("deployed", "unchanged"):
        why = (deploy_report or {}).get("error") or f"the deploy DAG failed (airflow dags test exited {returncode})"
        return False, why
    return True, ""


def _deploy_report(clients: dict[str, Any], queue_url: str) -> dict[str, Any] | None:
    """The deploy run's report, as the SNS topic's queue received it."""
    from devtools.local_airflow.run_training_dag import received_report

    received = received_report(clients["sqs"], queue_url)
    return received[1] if received else None


def _held_out_row(clients: dict[str, Any], package_arn: str, deploy: DeploySpec) -> tuple[str, str]:
    """A held-out row of the package's own day (its features, and its label), beside its evaluation report."""
    package = clients["sagemaker"].describe_model_package(ModelPackageName=package_arn)
    report_uri = package["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]
    key = deploy.holdout_uri(report_uri).removeprefix(f"s3://{BUCKET}/")
    first = clients["s3"].get_object(Bucket=BUCKET, Key=key)["Body"].read().decode().splitlines()[0]
    label, features = first.split(",", 1)
    return features, label
