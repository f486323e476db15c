"""A regression pipeline, written for SageMaker SDK v3: the source of its compiled definition.

PreprocessMeasurements -> TrainRegressor (built-in XGBoost, squared error) -> EvaluateRegressor
(evaluation.json) -> CheckModelError (RMSE <= MaxRmseThreshold) -> RegisterRegressor |
ModelErrorTooHigh. The names the DAGs rely on come from pipeline.toml, beside this file; `make
pipelines` compiles it into compiled.json.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from airflow_sagemaker_pipelines.declarations import load_declaration
from airflow_sagemaker_pipelines.deployment_settings import PipelineSettings

from include.pipelines import sdk_steps

DECLARATION = load_declaration(Path(__file__).resolve().parent)
IMAGES = {"sklearn": "1.2-1", "xgboost": "1.7-1"}
SCRIPTS = ("preprocess.py", "evaluate.py")
SPLITS = ("train", "validation", "test")
XGBOOST_HYPERPARAMETERS = {
    "objective": "reg:squarederror",
    "num_round": "150",
    "max_depth": "3",
    "eta": "0.05",
    "subsample": "0.8",
    "eval_metric": "rmse",
}


def build_pipeline(settings: PipelineSettings, sagemaker_session: Any, code_uris: dict[str, str]) -> Any:
    """Return the SDK Pipeline. `code_uris` maps script names to their S3 URIs (already uploaded)."""
    from sagemaker.mlops.workflow.pipeline import Pipeline
    from sagemaker.mlops.workflow.steps import ProcessingStep

    declaration = DECLARATION
    parameters = sdk_steps.string_parameters(declaration, settings)
    instance_type = parameters["InstanceType"]
    run_prefix = sdk_steps.execution_prefix(settings)
    sklearn_image, xgboost_image = (image_uri(framework, settings.region) for framework in ("sklearn", "xgboost"))
    processor = sdk_steps.script_processor(settings, sagemaker_session, sklearn_image, instance_type, "regression")

    preprocess = ProcessingStep(
        name="PreprocessMeasurements",
        step_args=processor.run(
            code=code_uris["preprocess.py"],
            inputs=[sdk_steps.s3_input("raw", parameters[declaration.data_parameter], "/opt/ml/processing/input")],
            outputs=[sdk_steps.s3_output(split, run_prefix, f"/opt/ml/processing/output/{split}") for split in SPLITS],
        ),
    )
    outputs = preprocess.properties.ProcessingOutputConfig.Outputs
    train = sdk_steps.xgboost_training_step(
        "TrainRegressor", settings, sagemaker_session, image=xgboost_image, instance_type=instance_type,
        hyperparameters=XGBOOST_HYPERPARAMETERS, base_job_name="train-regressor", outputs=outputs)
    model_artifacts = train.properties.ModelArtifacts.S3ModelArtifacts
    report = sdk_steps.evaluation_report(declaration)
    evaluate = ProcessingStep(
        name=declaration.evaluation_step,
        step_args=processor.run(
            code=code_uris["evaluate.py"],
            inputs=[
                sdk_steps.s3_input("model", model_artifacts, "/opt/ml/processing/model"),
                sdk_steps.s3_input("test", outputs["test"].S3Output.S3Uri, "/opt/ml/processing/test"),
            ],
            outputs=[sdk_steps.s3_output(declaration.evaluation_output, run_prefix, "/opt/ml/processing/evaluation")],
        ),
        property_files=[report],
    )
    register = sdk_steps.register_model(
        declaration, settings, sagemaker_session, image=xgboost_image, model_artifacts=model_artifacts,
        evaluate=evaluate, approval_status=parameters[declaration.approval_status_parameter],
        provenance=[parameters[name] for name in declaration.provenance.values()])
    gate = sdk_steps.quality_gate(declaration, name="CheckModelError", evaluate=evaluate, report=report,
                                  threshold=parameters[declaration.metric.parameter], if_steps=[register])
    return Pipeline(name=settings.pipeline_name, parameters=list(parameters.values()),
                    steps=[preprocess, train, evaluate, gate], sagemaker_session=sagemaker_session)


def image_uri(framework: str, region: str) -> str:
    """The URI of one of IMAGES in `region`, as the SDK knows it."""
    return sdk_steps.image_uri(framework, IMAGES[framework], region)
