"""The article's classification pipeline, written for SageMaker SDK v3: the source of its compiled definition.

PreprocessData -> TrainModel (built-in XGBoost) -> EvaluateModel (evaluation.json) ->
CheckModelQuality (AUC >= MinAucThreshold) -> RegisterModel | ModelQualityTooLow; beside them,
CheckDataQuality profiles the day's data (its baseline) and checks it against the champion's, and
RegisterModel records both with the package. The names the DAGs
rely on come from pipeline.toml, beside this file. Airflow never runs this: `make pipelines`
compiles it, where the SDK is installed, into compiled.json, which the DAG upserts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from airflow_sagemaker_pipelines.declarations import load_declaration
from airflow_sagemaker_pipelines.deployment_settings import PipelineSettings

from include.pipelines import sdk_steps

DECLARATION = load_declaration(Path(__file__).resolve().parent)
# The images, by framework and version (their URIs differ per region: the compiled definition lists
# every region's), and the scripts the processing steps run, from scripts/.
IMAGES = {"sklearn": "1.2-1", "xgboost": "1.7-1", "model-monitor": ""}  # model-monitor: the analyzer, unversioned
SCRIPTS = ("preprocess.py", "evaluate.py")
SPLITS = ("train", "validation", "test")
CACHE_PREPROCESSING = False
CACHE_EXPIRE_AFTER = "P30D"

XGBOOST_HYPERPARAMETERS = {
    "objective": "binary:logistic",
    "num_round": "200",
    "max_depth": "6",
    "eta": "0.1",
    "subsample": "0.8",
    "eval_metric": "auc",
}


def build_pipeline(settings: PipelineSettings, sagemaker_session: Any, code_uris: dict[str, str]) -> Any:
    """Return the SDK Pipeline. `code_uris` maps script names to their S3 URIs (already uploaded)."""
    from sagemaker.mlops.workflow.pipeline import Pipeline
    from sagemaker.mlops.workflow.steps import CacheConfig, ProcessingStep

    declaration = DECLARATION
    parameters = sdk_steps.string_parameters(declaration, settings)
    quality = declaration.data_quality
    assert quality is not None
    parameters.update(sdk_steps.data_quality_parameters(quality))
    run_prefix = sdk_steps.execution_prefix(settings)
    sklearn_image, xgboost_image = (image_uri(framework, settings.region) for framework in ("sklearn", "xgboost"))

    def processor(instance_type: str, base_job_name: str) -> Any:
        return sdk_steps.script_processor(settings, sagemaker_session, sklearn_image, parameters[instance_type],
                                          base_job_name)

    preprocess = ProcessingStep(
        name="PreprocessData",
        step_args=processor("ProcessingInstanceType", "preprocess").run(
            code=code_uris["preprocess.py"],
            inputs=[sdk_steps.s3_input("raw", parameters[declaration.data_parameter], "/opt/ml/processing/input")],
            outputs=[sdk_steps.s3_output(split, run_prefix, f"/opt/ml/processing/output/{split}") for split in SPLITS],
        ),
        cache_config=CacheConfig(enable_caching=CACHE_PREPROCESSING, expire_after=CACHE_EXPIRE_AFTER),
    )
    outputs = preprocess.properties.ProcessingOutputConfig.Outputs
    # The day's data as it lands (with its column names), profiled beside the preprocessing.
    check_data = sdk_steps.data_quality_check(
        quality, settings, sagemaker_session, dataset=parameters[declaration.data_parameter], run_prefix=run_prefix,
        parameters=parameters, instance_type=parameters["ProcessingInstanceType"])

    train = sdk_steps.xgboost_training_step(
        "TrainModel", settings, sagemaker_session, image=xgboost_image, instance_type=parameters["TrainingInstanceType"],
        hyperparameters=XGBOOST_HYPERPARAMETERS, base_job_name="train-xgboost", outputs=outputs)
    model_artifacts = train.properties.ModelArtifacts.S3ModelArtifacts

    report = sdk_steps.evaluation_report(declaration)
    evaluate = ProcessingStep(
        name=declaration.evaluation_step,
        step_args=processor("EvaluationInstanceType", "evaluate").run(
            code=code_uris["evaluate.py"],
            inputs=[
                sdk_steps.s3_input("model", model_artifacts, "/opt/ml/processing/model"),
                sdk_steps.s3_input("test", outputs["test"].S3Output.S3Uri, "/opt/ml/processing/test"),
            ],
            outputs=[sdk_steps.s3_output(declaration.evaluation_output, run_prefix, "/opt/ml/processing/evaluation")],
        ),
        property_files=[report],
    )
    provenance = [parameters[name] for name in declaration.provenance.values()]
    register = sdk_steps.register_model(
        declaration, settings, sagemaker_session, image=xgboost_image, model_artifacts=model_artifacts,
        evaluate=evaluate, approval_status=parameters[declaration.approval_status_parameter], provenance=provenance,
        data_check=check_data)
    gate = sdk_steps.quality_gate(declaration, name="CheckModelQuality", evaluate=evaluate, report=report,
                                  threshold=parameters[declaration.metric.parameter], if_steps=[register])
    return Pipeline(
        name=settings.pipeline_name,
        parameters=list(parameters.values()),
        steps=[preprocess, check_data, train, evaluate, gate],
        sagemaker_session=sagemaker_session,
    )


def image_uri(framework: str, region: str) -> str:
    """The URI of one of IMAGES in `region`, as the SDK knows it."""
    return sdk_steps.image_uri(framework, IMAGES[framework], region)
