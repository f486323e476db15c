"""DescribePipelineExecution echoes an execution's MLflow configuration as AWS does (MLflowConfig): the
definition's MlflowConfig, with StartPipelineExecution's MlflowExperimentName over its experiment."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.pipelines import ROLE, unique, wait_for

from .sdk_pipelines import run_sdk_pipeline

TRACKING_SERVER = "arn:aws:sagemaker:us-east-1:123456789012:mlflow-tracking-server/tracking"
NOTHING = {"Name": "Nothing", "Type": "Condition",
           "Arguments": {"Conditions": [{"Type": "Equals", "LeftValue": 1, "RightValue": 1}], "IfSteps": [], "ElseSteps": []}}


def pipeline_with(sagemaker: Any, mlflow_config: dict[str, Any] | None) -> str:
    body: dict[str, Any] = {"Version": "2020-12-01", "Metadata": {},
                            "Parameters": [{"Name": "Experiment", "Type": "String", "DefaultValue": "from-parameter"}],
                            "Steps": [NOTHING]}
    if mlflow_config is not None:
        body["MlflowConfig"] = mlflow_config
    name = unique("mlflow")
    sagemaker.create_pipeline(PipelineName=name, PipelineDefinition=json.dumps(body), RoleArn=ROLE)
    return name


@pytest.mark.parametrize(
    ("definition_config", "start", "expected"),
    [
        ({"MlflowResourceArn": TRACKING_SERVER, "MlflowExperimentName": "from-definition"}, {},
         {"MlflowResourceArn": TRACKING_SERVER, "MlflowExperimentName": "from-definition"}),
        ({"MlflowResourceArn": TRACKING_SERVER, "MlflowExperimentName": "from-definition"}, {"MlflowExperimentName": "chosen"},
         {"MlflowResourceArn": TRACKING_SERVER, "MlflowExperimentName": "chosen"}),
        ({"MlflowResourceArn": TRACKING_SERVER, "MlflowExperimentName": {"Get": "Parameters.Experiment"}}, {},
         {"MlflowResourceArn": TRACKING_SERVER, "MlflowExperimentName": "from-parameter"}),
        ({"MlflowResourceArn": TRACKING_SERVER, "MlflowExperimentName": None}, {},
         {"MlflowResourceArn": TRACKING_SERVER}),
        (None, {"MlflowExperimentName": "chosen"}, {"MlflowExperimentName": "chosen"}),
    ],
    ids=["definition", "start-overrides", "parameter", "no-experiment", "start-only"],
)
def test_describe_pipeline_execution_echoes_the_mlflow_config(sagemaker, definition_config: dict[str, Any] | None,
                                                              start: dict[str, str], expected: dict[str, str]) -> None:
    name = pipeline_with(sagemaker, definition_config)
    arn = sagemaker.start_pipeline_execution(PipelineName=name, **start)["PipelineExecutionArn"]
    assert sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)["MLflowConfig"] == expected
    assert wait_for(sagemaker, arn)["MLflowConfig"] == expected


def test_an_execution_without_mlflow_is_described_without_mlflow_config(sagemaker) -> None:
    arn = sagemaker.start_pipeline_execution(PipelineName=pipeline_with(sagemaker, None))["PipelineExecutionArn"]
    assert "MLflowConfig" not in wait_for(sagemaker, arn)


def test_sdk_pipeline_mlflow_config_and_start_experiment_name_are_echoed(sagemaker, sdk_session) -> None:
    from sagemaker.core.shapes.shapes import MlflowConfig
    from sagemaker.mlops.workflow.fail_step import FailStep

    # A FailStep run on purpose: the quickest step there is; the execution's configuration is what is checked.
    step = FailStep(name="Stop", error_message="done")
    config = MlflowConfig(mlflow_resource_arn=TRACKING_SERVER, mlflow_experiment_name="sdk-experiment")
    pipeline, _, description = run_sdk_pipeline(sagemaker, sdk_session, [step], mlflow_config=config)
    assert description["MLflowConfig"] == {"MlflowResourceArn": TRACKING_SERVER, "MlflowExperimentName": "sdk-experiment"}
    second = pipeline.start(mlflow_experiment_name="sdk-override").arn
    assert wait_for(sagemaker, second)["MLflowConfig"] == {
        "MlflowResourceArn": TRACKING_SERVER, "MlflowExperimentName": "sdk-override"}
