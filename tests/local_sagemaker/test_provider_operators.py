"""The Amazon provider's SageMaker operators and sensor, unchanged, in dag.test() against the endpoint.

The `aws_default` connection points at the endpoint (AIRFLOW_CONN_AWS_DEFAULT), as a user's
would; each operator waits the way it offers (polling, and deferrable where it has it).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.support.pipelines import ROLE, XGBOOST_IMAGE, create_pipeline, processing_step, put_script, unique

from .test_standalone_jobs import _csv, _xgboost_model, processing_request, training_request


@pytest.fixture
def run_dag(aws_default: None, capfd: pytest.CaptureFixture[str]) -> Callable[..., tuple[dict[str, str | None], dict[str, Any], str]]:
    """Build a DAG from `tasks(dag)` and dag.test() it; return task states, return values and the log."""

    def run(tasks: Callable[[], None]) -> tuple[dict[str, str | None], dict[str, Any], str]:
        from airflow.models import TaskInstance
        from airflow.models.xcom import XComModel
        from airflow.sdk import DAG
        from airflow.utils.session import create_session
        from sqlalchemy import select

        with DAG(dag_id=unique("provider").replace("-", "_"), schedule=None, start_date=datetime(2024, 1, 1, tzinfo=UTC)) as dag:
            tasks()
        _serialize(dag)
        capfd.readouterr()
        dag_run = dag.test()
        captured = capfd.readouterr()
        with create_session() as session:
            tis = session.scalars(select(TaskInstance).where(TaskInstance.dag_id == dag.dag_id)).all()
            rows = session.scalars(select(XComModel).where(XComModel.dag_id == dag.dag_id, XComModel.key == "return_value")).all()
            values = {row.task_id: XComModel.deserialize_value(row) for row in rows}
            assert dag_run.run_id
            return {ti.task_id: ti.state for ti in tis}, values, captured.out + captured.err

    return run


def _serialize(dag: Any) -> None:
    """dag.test() runs only DAGs in the metadata DB; one defined in a test is in no bundle, so write it there."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db

    DagBundlesManager().sync_bundles_to_db()
    bag = DagBag(collect_dags=False)
    bag.bag_dag(dag)
    sync_bag_to_db(bag, "dags-folder", None)


@pytest.mark.parametrize("deferrable", [False, True], ids=["polling", "deferrable"])
def test_processing_operator_runs_the_job_for_real(run_dag, s3, bucket, sagemaker, deferrable: bool) -> None:
    from airflow.providers.amazon.aws.operators.sagemaker import SageMakerProcessingOperator

    script = put_script(s3, bucket, "import json, pathlib\nout = pathlib.Path('/opt/ml/processing/output/report')\n"
                                    "(out / 'report.json').write_text(json.dumps({'rows': 42}))\nprint('report written')\n")
    name = unique("operator-processing")
    config = processing_request(bucket, script, name, outputs={"report": f"s3://{bucket}/{script}-report"})
    states, values, log = run_dag(lambda: SageMakerProcessingOperator(
        task_id="process", config=config, check_interval=1, deferrable=deferrable))
    assert states == {"process": "success"}, log[-3000:]
    assert values["process"]["Processing"]["ProcessingJobStatus"] == "Completed"
    assert json.loads(s3.get_object(Bucket=bucket, Key=f"{script}-report/report.json")["Body"].read()) == {"rows": 42}


def test_processing_operator_fails_the_task_with_the_jobs_failure_reason(run_dag, s3, bucket) -> None:
    from airflow.providers.amazon.aws.operators.sagemaker import SageMakerProcessingOperator

    config = processing_request(bucket, put_script(s3, bucket, "import sys\nsys.exit('no such column: price')\n"), unique("operator-fails"))
    states, _, log = run_dag(lambda: SageMakerProcessingOperator(task_id="process", config=config, check_interval=1))
    assert states == {"process": "failed"}
    assert "no such column: price" in log


def test_training_operator_prints_the_jobs_log_while_it_waits(run_dag, s3, bucket) -> None:
    from airflow.providers.amazon.aws.operators.sagemaker import SageMakerTrainingOperator

    prefix = unique("operator-training")
    s3.put_object(Bucket=bucket, Key=f"{prefix}/train/train.csv", Body=_csv(200, 7))
    config = training_request(bucket, prefix, unique("operator-train"))
    states, values, log = run_dag(lambda: SageMakerTrainingOperator(task_id="train", config=config, print_log=True, check_interval=1))
    assert states == {"train": "success"}, log[-3000:]
    assert values["train"]["Training"]["TrainingJobStatus"] == "Completed"
    assert "#011train-logloss:" in log, "the job's CloudWatch log did not reach the task log"
    assert "Billable seconds:" in log


def test_training_operator_deferrable_waits_in_the_trigger(run_dag, s3, bucket) -> None:
    from airflow.providers.amazon.aws.operators.sagemaker import SageMakerTrainingOperator

    prefix = unique("operator-training")
    s3.put_object(Bucket=bucket, Key=f"{prefix}/train/train.csv", Body=_csv(200, 8))
    config = training_request(bucket, prefix, unique("operator-train"))
    states, values, log = run_dag(lambda: SageMakerTrainingOperator(
        task_id="train", config=config, print_log=False, check_interval=1, deferrable=True))
    assert states == {"train": "success"}, log[-3000:]
    assert values["train"]["Training"]["ModelArtifacts"]["S3ModelArtifacts"].endswith("/output/model.tar.gz")


@pytest.mark.parametrize("deferrable", [False, True], ids=["polling", "deferrable"])
def test_transform_operator_creates_the_model_and_transforms(run_dag, s3, bucket, sagemaker, deferrable: bool) -> None:
    from airflow.providers.amazon.aws.operators.sagemaker import SageMakerTransformOperator

    prefix = unique("operator-transform")
    model_data = _xgboost_model(s3, bucket, prefix)
    s3.put_object(Bucket=bucket, Key=f"{prefix}/in/day.csv", Body=_csv(12, 9, label=False))
    config = {
        "Model": {"ModelName": unique("operator-model"), "ExecutionRoleArn": ROLE,
                  "PrimaryContainer": {"Image": XGBOOST_IMAGE, "ModelDataUrl": model_data}},
        "Transform": {
            "TransformJobName": unique("operator-transform"), "ModelName": "set-from-model",
            "TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/{prefix}/in"}},
                               "ContentType": "text/csv", "SplitType": "Line"},
            "TransformOutput": {"S3OutputPath": f"s3://{bucket}/{prefix}/out", "AssembleWith": "Line"},
            "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
        },
    }
    states, values, log = run_dag(lambda: SageMakerTransformOperator(
        task_id="transform", config=config, check_interval=1, deferrable=deferrable))
    assert states == {"transform": "success"}, log[-3000:]
    assert values["transform"]["Transform"]["TransformJobStatus"] == "Completed"
    assert len(s3.get_object(Bucket=bucket, Key=f"{prefix}/out/day.csv.out")["Body"].read().splitlines()) == 12


@pytest.mark.parametrize("deferrable", [False, True], ids=["polling", "deferrable"])
def test_start_then_stop_pipeline_operators_end_a_running_execution(run_dag, s3, bucket, sagemaker, deferrable: bool) -> None:
    from airflow.providers.amazon.aws.operators.sagemaker import (
        SageMakerStartPipelineOperator,
        SageMakerStopPipelineOperator,
    )

    name = create_pipeline(sagemaker, [processing_step("Sleep", bucket, put_script(s3, bucket, "import time\ntime.sleep(300)\n"))])

    def tasks() -> None:
        start = SageMakerStartPipelineOperator(task_id="start", pipeline_name=name, wait_for_completion=False)
        start >> SageMakerStopPipelineOperator(task_id="stop", pipeline_exec_arn=start.output, wait_for_completion=True,
                                               check_interval=1, deferrable=deferrable)

    states, values, log = run_dag(tasks)
    assert states == {"start": "success", "stop": "success"}, log[-3000:]
    assert values["stop"] == "Stopped"
    assert sagemaker.describe_pipeline_execution(PipelineExecutionArn=values["start"])["PipelineExecutionStatus"] == "Stopped"


@pytest.mark.parametrize("deferrable", [False, True], ids=["polling", "deferrable"])
def test_start_operator_waits_sensor_confirms_and_a_late_stop_is_tolerated(run_dag, sagemaker, deferrable: bool) -> None:
    from airflow.providers.amazon.aws.operators.sagemaker import (
        SageMakerStartPipelineOperator,
        SageMakerStopPipelineOperator,
    )
    from airflow.providers.amazon.aws.sensors.sagemaker import SageMakerPipelineSensor

    name = create_pipeline(sagemaker, [{"Name": "Gate", "Type": "Condition", "Arguments": {
        "Conditions": [{"Type": "Equals", "LeftValue": 1, "RightValue": 1}]}}])

    def tasks() -> None:
        start = SageMakerStartPipelineOperator(task_id="start", pipeline_name=name, wait_for_completion=True,
                                               check_interval=1, deferrable=deferrable)
        sensor = SageMakerPipelineSensor(task_id="sensor", pipeline_exec_arn=start.output, poke_interval=1)
        # fail_if_not_running=False: stopping an execution that already ended is no error.
        stop = SageMakerStopPipelineOperator(task_id="stop", pipeline_exec_arn=start.output, fail_if_not_running=False)
        start >> sensor >> stop

    states, values, log = run_dag(tasks)
    assert states == {"start": "success", "sensor": "success", "stop": "success"}, log[-3000:]
    assert values["stop"] == "Succeeded"
    assert "Only pipelines with 'Executing' status can be stopped" in log


@pytest.mark.usefixtures("delete_endpoints_after")
def test_model_config_and_endpoint_operators_deploy_then_update_a_served_endpoint(run_dag, s3, bucket, sagemaker, runtime) -> None:
    """Create (polling), then create again with a new model: the operator's fallback updates it (deferrable)."""
    from airflow.providers.amazon.aws.operators.sagemaker import (
        SageMakerEndpointConfigOperator,
        SageMakerEndpointOperator,
        SageMakerModelOperator,
    )
    from airflow.providers.amazon.aws.sensors.sagemaker import SageMakerEndpointSensor

    from .serving import csv_body, in_process, predictions, rows, train_booster, xgboost_artifact

    first, second = train_booster(3), train_booster(4)
    endpoint = unique("operator-endpoint")
    model, config = unique("operator-model"), unique("operator-config")

    def deploy() -> None:
        create_model = SageMakerModelOperator(task_id="model", config={
            "ModelName": model, "ExecutionRoleArn": ROLE,
            "PrimaryContainer": {"Image": XGBOOST_IMAGE, "ModelDataUrl": xgboost_artifact(s3, bucket, first)}})
        create_config = SageMakerEndpointConfigOperator(task_id="config", config={
            "EndpointConfigName": config, "ProductionVariants": [
                {"VariantName": "AllTraffic", "ModelName": model, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}]})
        create_endpoint = SageMakerEndpointOperator(task_id="endpoint", config={
            "EndpointName": endpoint, "EndpointConfigName": config}, operation="create", check_interval=1)
        sensor = SageMakerEndpointSensor(task_id="in_service", endpoint_name=endpoint, poke_interval=1)
        create_model >> create_config >> create_endpoint >> sensor

    states, values, log = run_dag(deploy)
    assert states == {"model": "success", "config": "success", "endpoint": "success", "in_service": "success"}, log[-3000:]
    assert values["endpoint"]["Endpoint"]["EndpointStatus"] == "InService"
    body = csv_body(rows(3, 5))
    assert predictions(runtime, endpoint, body) == in_process(first, body)

    new_model, new_config = unique("operator-model"), unique("operator-config")
    states, values, log = run_dag(lambda: SageMakerEndpointOperator(task_id="redeploy", config={
        "Model": {"ModelName": new_model, "ExecutionRoleArn": ROLE,
                  "PrimaryContainer": {"Image": XGBOOST_IMAGE, "ModelDataUrl": xgboost_artifact(s3, bucket, second)}},
        "EndpointConfig": {"EndpointConfigName": new_config, "ProductionVariants": [
            {"VariantName": "AllTraffic", "ModelName": new_model, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}]},
        "Endpoint": {"EndpointName": endpoint, "EndpointConfigName": new_config},
    }, operation="create", deferrable=True, check_interval=1))
    assert states == {"redeploy": "success"}, log[-3000:]
    assert "cannot create already existing endpoint" in log  # the provider's fallback, on AWS's wording
    assert values["redeploy"]["Endpoint"]["EndpointConfigName"] == new_config
    assert predictions(runtime, endpoint, body) == in_process(second, body)


@pytest.mark.usefixtures("delete_endpoints_after")
def test_endpoint_operator_fails_the_task_when_the_endpoint_fails(run_dag, s3, bucket, sagemaker) -> None:
    from airflow.providers.amazon.aws.operators.sagemaker import SageMakerEndpointOperator

    from .serving import put_artifact

    model, config, endpoint = unique("operator-model"), unique("operator-config"), unique("operator-endpoint")
    states, _, log = run_dag(lambda: SageMakerEndpointOperator(task_id="endpoint", config={
        "Model": {"ModelName": model, "ExecutionRoleArn": ROLE,
                  "PrimaryContainer": {"Image": XGBOOST_IMAGE, "ModelDataUrl": put_artifact(s3, bucket, {"xgboost-model": b"?"})}},
        "EndpointConfig": {"EndpointConfigName": config, "ProductionVariants": [
            {"VariantName": "AllTraffic", "ModelName": model, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}]},
        "Endpoint": {"EndpointName": endpoint, "EndpointConfigName": config},
    }, check_interval=1))
    assert states == {"endpoint": "failed"}
    assert sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointStatus"] == "Failed"
    assert "Failed" in log


@pytest.mark.usefixtures("delete_endpoints_after")
def test_a_failed_update_passes_the_endpoint_operator_as_on_aws_and_says_why(run_dag, s3, bucket, sagemaker, runtime) -> None:
    """AWS rolls a failed update back to InService: the provider's waiter sees success. The FailureReason
    (which a deploy DAG must read) says why, and the old model still answers."""
    from airflow.providers.amazon.aws.operators.sagemaker import SageMakerEndpointOperator

    from .serving import (
        create_config,
        create_model,
        csv_body,
        deploy,
        in_process,
        predictions,
        put_artifact,
        rows,
        train_booster,
        xgboost_artifact,
    )

    booster = train_booster(10)
    endpoint = deploy(sagemaker, xgboost_artifact(s3, bucket, booster))
    broken = create_config(sagemaker, [("AllTraffic", create_model(sagemaker, put_artifact(s3, bucket, {"xgboost-model": b"?"})), 1.0, 1)])
    states, _, log = run_dag(lambda: SageMakerEndpointOperator(task_id="update", config={
        "EndpointName": endpoint, "EndpointConfigName": broken}, operation="update", check_interval=1))
    assert states == {"update": "success"}, log[-3000:]
    described = sagemaker.describe_endpoint(EndpointName=endpoint)
    assert described["EndpointStatus"] == "InService" and described["EndpointConfigName"] != broken
    assert f"Updating to endpoint configuration '{broken}' failed" in described["FailureReason"]
    body = csv_body(rows(2, 15))
    assert predictions(runtime, endpoint, body) == in_process(booster, body)


@pytest.mark.parametrize("deferrable", [False, True], ids=["polling", "deferrable"])
def test_tuning_operator_runs_the_trials_and_returns_the_best(run_dag, s3, bucket, sagemaker, deferrable: bool) -> None:
    from airflow.providers.amazon.aws.operators.sagemaker import SageMakerTuningOperator

    from .test_tuning_jobs import tuning_name, xgboost_tuning

    prefix = unique("operator-tuning")
    s3.put_object(Bucket=bucket, Key=f"{prefix}/train/train.csv", Body=_csv(150, 31))
    s3.put_object(Bucket=bucket, Key=f"{prefix}/validation/validation.csv", Body=_csv(60, 32))
    name = tuning_name("operator-tune")
    config = xgboost_tuning(bucket, prefix, name, maximum=3, parallel=2)
    states, values, log = run_dag(lambda: SageMakerTuningOperator(
        task_id="tune", config=config, check_interval=1, deferrable=deferrable))
    assert states == {"tune": "success"}, log[-3000:]
    description = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    assert description["HyperParameterTuningJobStatus"] == "Completed"
    assert description["TrainingJobStatusCounters"]["Completed"] == 3
    if not deferrable:  # the polling operator returns the description; the deferrable one the trigger's event
        assert values["tune"]["Tuning"]["BestTrainingJob"]["TrainingJobName"] == description["BestTrainingJob"]["TrainingJobName"]
