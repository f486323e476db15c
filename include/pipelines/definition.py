"""The article's classification pipeline, written for SageMaker SDK v3: the source of its compiled definition.

PreprocessData -> TrainModel (built-in XGBoost) -> EvaluateModel (evaluation.json) ->
CheckModelQuality (AUC >= MinAucThreshold) -> RegisterModel | Fail. Every name the DAG relies on
comes from `contract`. Airflow never runs this: `make pipelines` compiles it, where the SDK is
installed, into compiled/classification.json, which the DAG upserts (README "Your pipeline").
"""

from __future__ import annotations

from typing import Any

from . import contract
from .settings import PipelineSettings

# The images, by framework and version (their URIs differ per region: the compiled definition lists
# every region's), and whether preprocessing reuses an earlier execution's result.
SKLEARN_VERSION = "1.2-1"
XGBOOST_VERSION = "1.7-1"
CACHE_PREPROCESSING = False
CACHE_EXPIRE_AFTER = "P30D"
IMAGES = {"sklearn": SKLEARN_VERSION, "xgboost": XGBOOST_VERSION}  # framework -> version
# The scripts the processing steps run, from contract.SCRIPTS_FOLDER, by the names `code_uris` maps.
SCRIPTS = ("preprocess.py", "evaluate.py")

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
    from sagemaker.core.model_metrics import MetricsSource, ModelMetrics
    from sagemaker.core.processing import ScriptProcessor
    from sagemaker.core.shapes import ProcessingInput, ProcessingOutput, ProcessingS3Input, ProcessingS3Output
    from sagemaker.core.workflow.conditions import ConditionGreaterThanOrEqualTo
    from sagemaker.core.workflow.functions import Join, JsonGet
    from sagemaker.core.workflow.parameters import ParameterFloat, ParameterString
    from sagemaker.core.workflow.properties import PropertyFile
    from sagemaker.mlops.workflow.condition_step import ConditionStep
    from sagemaker.mlops.workflow.fail_step import FailStep
    from sagemaker.mlops.workflow.model_step import ModelStep
    from sagemaker.mlops.workflow.pipeline import Pipeline
    from sagemaker.mlops.workflow.steps import CacheConfig, ProcessingStep, TrainingStep
    from sagemaker.serve.model_builder import ModelBuilder
    from sagemaker.train.configs import Compute, InputData, OutputDataConfig
    from sagemaker.train.model_trainer import ModelTrainer

    defaults = settings.parameter_defaults()
    input_data = ParameterString(contract.INPUT_DATA_URL, default_value=f"s3://{settings.bucket}/{contract.RAW_PREFIX}/")
    processing_instance_type, evaluation_instance_type, training_instance_type, model_approval_status = (
        ParameterString(name, default_value=defaults[name]) for name in (
            contract.PROCESSING_INSTANCE_TYPE, contract.EVALUATION_INSTANCE_TYPE, contract.TRAINING_INSTANCE_TYPE,
            contract.MODEL_APPROVAL_STATUS))
    min_auc_threshold = ParameterFloat(contract.MIN_AUC_THRESHOLD, default_value=defaults[contract.MIN_AUC_THRESHOLD])
    # Recorded on the registered package, so a later run knows what the champion was trained on.
    provenance = [ParameterString(name, default_value=contract.UNRECORDED) for name in contract.PROVENANCE.values()]
    # Each execution writes under its own id, so runs never overwrite each other's outputs.
    run_prefix = Join(on="/", values=[settings.s3_uri("executions"), _execution_id()])

    def processor(instance_type: Any, base_job_name: str) -> Any:
        return ScriptProcessor(
            role=settings.role_arn,
            image_uri=image_uri("sklearn", settings.region),
            command=["python3"],
            instance_type=instance_type,
            instance_count=1,
            base_job_name=base_job_name,
            sagemaker_session=sagemaker_session,
        )

    def s3_input(name: str, source: Any, destination: str) -> Any:
        return ProcessingInput(input_name=name, s3_input=ProcessingS3Input(
            s3_uri=source, local_path=destination, s3_data_type="S3Prefix", s3_input_mode="File"))

    def s3_output(name: str, source: str) -> Any:
        return ProcessingOutput(output_name=name, s3_output=ProcessingS3Output(
            s3_uri=Join(on="/", values=[run_prefix, name]), local_path=source, s3_upload_mode="EndOfJob"))

    preprocess = ProcessingStep(
        name=contract.PREPROCESS_STEP,
        step_args=processor(processing_instance_type, "preprocess").run(
            code=code_uris["preprocess.py"],
            inputs=[s3_input("raw", input_data, "/opt/ml/processing/input")],
            outputs=[s3_output(split, f"/opt/ml/processing/output/{split}") for split in contract.SPLITS],
        ),
        cache_config=CacheConfig(enable_caching=CACHE_PREPROCESSING, expire_after=CACHE_EXPIRE_AFTER),
    )
    outputs = preprocess.properties.ProcessingOutputConfig.Outputs

    xgboost_image = image_uri("xgboost", settings.region)
    trainer = ModelTrainer(
        training_image=xgboost_image,
        role=settings.role_arn,
        compute=Compute(instance_type=training_instance_type, instance_count=1, volume_size_in_gb=30),
        output_data_config=OutputDataConfig(s3_output_path=settings.s3_uri("model-output")),
        hyperparameters=dict(XGBOOST_HYPERPARAMETERS),
        base_job_name="train-xgboost",
        sagemaker_session=sagemaker_session,
    )
    train = TrainingStep(
        name=contract.TRAIN_STEP,
        step_args=trainer.train(input_data_config=[
            InputData(channel_name=split, data_source=outputs[split].S3Output.S3Uri, content_type="text/csv")
            for split in ("train", "validation")
        ]),
    )
    model_artifacts = train.properties.ModelArtifacts.S3ModelArtifacts

    evaluation_report = PropertyFile(name=contract.EVALUATION_PROPERTY_FILE, output_name=contract.EVALUATION_OUTPUT,
                                     path=contract.EVALUATION_REPORT_FILE)
    evaluate = ProcessingStep(
        name=contract.EVALUATE_STEP,
        step_args=processor(evaluation_instance_type, "evaluate").run(
            code=code_uris["evaluate.py"],
            inputs=[
                s3_input("model", model_artifacts, "/opt/ml/processing/model"),
                s3_input("test", outputs["test"].S3Output.S3Uri, "/opt/ml/processing/test"),
            ],
            outputs=[s3_output(contract.EVALUATION_OUTPUT, "/opt/ml/processing/evaluation")],
        ),
        property_files=[evaluation_report],
    )
    evaluation_uri = Join(on="/", values=[
        evaluate.properties.ProcessingOutputConfig.Outputs[contract.EVALUATION_OUTPUT].S3Output.S3Uri,
        contract.EVALUATION_REPORT_FILE])

    model = ModelBuilder(
        s3_model_data_url=model_artifacts,
        image_uri=xgboost_image,
        role_arn=settings.role_arn,
        sagemaker_session=sagemaker_session,
    )
    register = ModelStep(
        name=contract.REGISTER_STEP,
        step_args=model.register(
            model_package_group_name=settings.model_package_group,
            content_types=["text/csv"],
            response_types=["text/csv"],
            inference_instances=["ml.m5.large", "ml.m5.xlarge"],
            transform_instances=["ml.m5.xlarge"],
            approval_status=model_approval_status,
            model_metrics=ModelMetrics(model_statistics=MetricsSource(
                s3_uri=evaluation_uri, content_type="application/json")),
            customer_metadata_properties={parameter.name: parameter for parameter in provenance},
        ),
    )
    auc = JsonGet(step_name=evaluate.name, property_file=evaluation_report, json_path=contract.AUC_JSON_PATH)
    fail = FailStep(
        name=contract.QUALITY_GATE_FAIL_STEP,
        error_message=Join(on=" ", values=["Model AUC", auc, f"is below the {contract.MIN_AUC_THRESHOLD}", min_auc_threshold]),
    )
    gate = ConditionStep(
        name=contract.QUALITY_CHECK_STEP,
        conditions=[ConditionGreaterThanOrEqualTo(left=auc, right=min_auc_threshold)],
        if_steps=[register],
        else_steps=[fail],
    )
    return Pipeline(
        name=settings.pipeline_name,
        parameters=[input_data, processing_instance_type, evaluation_instance_type, training_instance_type,
                    model_approval_status, min_auc_threshold, *provenance],
        steps=[preprocess, train, evaluate, gate],
        sagemaker_session=sagemaker_session,
    )


def image_uri(framework: str, region: str) -> str:
    """The URI of one of IMAGES in `region`, as the SDK knows it."""
    from sagemaker.core import image_uris

    return image_uris.retrieve(framework, region=region, version=IMAGES[framework])


def _execution_id() -> Any:
    from sagemaker.core.workflow.execution_variables import ExecutionVariables

    return ExecutionVariables.PIPELINE_EXECUTION_ID
