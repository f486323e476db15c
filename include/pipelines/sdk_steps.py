"""SageMaker SDK v3 building blocks the example pipelines share: processors, S3 inputs and outputs, the
provenance parameters, the registration step and the quality gate, each named from the pipeline's declaration.

A pipeline folder's definition.py may use them or not: only its compiled definition matters to the
DAGs. Imported where the SDK is installed (`make pipelines`), never by Airflow.
"""

from __future__ import annotations

from typing import Any

from airflow_sagemaker_pipelines.declarations import DataQualitySpec, PipelineDeclaration
from airflow_sagemaker_pipelines.deployment_settings import PipelineSettings
from airflow_sagemaker_pipelines.payloads import UNRECORDED


def image_uri(framework: str, version: str, region: str) -> str:
    """The URI of a SageMaker image in `region`, as the SDK knows it."""
    from sagemaker.core import image_uris

    return image_uris.retrieve(framework, region=region, version=version)


def execution_prefix(settings: PipelineSettings) -> Any:
    """s3://<bucket>/<prefix>/executions/<execution id>: each execution writes under its own id."""
    from sagemaker.core.workflow.execution_variables import ExecutionVariables
    from sagemaker.core.workflow.functions import Join

    return Join(on="/", values=[settings.s3_uri("executions"), ExecutionVariables.PIPELINE_EXECUTION_ID])


def script_processor(settings: PipelineSettings, session: Any, image: str, instance_type: Any,
                     base_job_name: str) -> Any:
    from sagemaker.core.processing import ScriptProcessor

    return ScriptProcessor(role=settings.role_arn, image_uri=image, command=["python3"], instance_type=instance_type,
                           instance_count=1, base_job_name=base_job_name, sagemaker_session=session)


def s3_input(name: str, source: Any, destination: str) -> Any:
    from sagemaker.core.shapes import ProcessingInput, ProcessingS3Input

    return ProcessingInput(input_name=name, s3_input=ProcessingS3Input(
        s3_uri=source, local_path=destination, s3_data_type="S3Prefix", s3_input_mode="File"))


def s3_output(name: str, run_prefix: Any, source: str) -> Any:
    """A processing output uploaded at the job's end to <run_prefix>/<name>."""
    from sagemaker.core.shapes import ProcessingOutput, ProcessingS3Output
    from sagemaker.core.workflow.functions import Join

    return ProcessingOutput(output_name=name, s3_output=ProcessingS3Output(
        s3_uri=Join(on="/", values=[run_prefix, name]), local_path=source, s3_upload_mode="EndOfJob"))


def xgboost_training_step(name: str, settings: PipelineSettings, session: Any, *, image: str, instance_type: Any,
                          hyperparameters: dict[str, str], base_job_name: str, outputs: Any) -> Any:
    """The built-in XGBoost trained on the preprocessing step's train and validation outputs (CSV, label first)."""
    from sagemaker.mlops.workflow.steps import TrainingStep
    from sagemaker.train.configs import Compute, InputData, OutputDataConfig
    from sagemaker.train.model_trainer import ModelTrainer

    trainer = ModelTrainer(
        training_image=image,
        role=settings.role_arn,
        compute=Compute(instance_type=instance_type, instance_count=1, volume_size_in_gb=30),
        output_data_config=OutputDataConfig(s3_output_path=settings.s3_uri("model-output")),
        hyperparameters=dict(hyperparameters),
        base_job_name=base_job_name,
        sagemaker_session=session,
    )
    return TrainingStep(
        name=name,
        step_args=trainer.train(input_data_config=[
            InputData(channel_name=split, data_source=outputs[split].S3Output.S3Uri, content_type="text/csv")
            for split in ("train", "validation")
        ]),
    )


def string_parameters(declaration: PipelineDeclaration, settings: PipelineSettings) -> dict[str, Any]:
    """The declared parameters as SDK parameters: the data's (defaulting to the whole prefix), the
    settings' (with the deployment's defaults) and the provenance the package records."""
    from sagemaker.core.workflow.parameters import ParameterFloat, ParameterInteger, ParameterString

    kinds = {str: ParameterString, float: ParameterFloat, int: ParameterInteger}
    parameters: dict[str, Any] = {declaration.data_parameter: ParameterString(
        declaration.data_parameter, default_value=f"s3://{settings.bucket}/{declaration.data_prefix}/")}
    for name, default in settings.parameter_defaults().items():
        parameters[name] = kinds[type(default)](name, default_value=default)
    for name in declaration.provenance.values():
        parameters[name] = ParameterString(name, default_value=UNRECORDED)
    return parameters


def evaluation_report(declaration: PipelineDeclaration) -> Any:
    """The evaluation step's report, as a property file the gate reads."""
    from sagemaker.core.workflow.properties import PropertyFile

    return PropertyFile(name="EvaluationReport", output_name=declaration.evaluation_output,
                        path=declaration.evaluation_report)


def data_quality_parameters(spec: DataQualitySpec) -> dict[str, Any]:
    """The QualityCheck step's parameters, which the DAG sets on every run. Their defaults suit a run started
    elsewhere (the console): no check, this data's baseline registered, never a failure on a violation."""
    from sagemaker.core.workflow.parameters import ParameterBoolean, ParameterString

    return {
        spec.skip_check_parameter: ParameterBoolean(spec.skip_check_parameter, default_value=True),
        spec.register_baseline_parameter: ParameterBoolean(spec.register_baseline_parameter, default_value=True),
        spec.fail_on_violation_parameter: ParameterBoolean(spec.fail_on_violation_parameter, default_value=False),
        spec.baseline_statistics_parameter: ParameterString(spec.baseline_statistics_parameter, default_value=""),
        spec.baseline_constraints_parameter: ParameterString(spec.baseline_constraints_parameter, default_value=""),
    }


def data_quality_check(spec: DataQualitySpec, settings: PipelineSettings, session: Any, *, dataset: Any,
                       run_prefix: Any, parameters: dict[str, Any], instance_type: Any) -> Any:
    """The QualityCheck step (Model Monitor's data-quality analyzer) on `dataset`, CSV files with a header: it
    computes the data's baseline (statistics.json, constraints.json) and, unless skipped, checks the data against
    the supplied baseline (the champion's, which the DAG passes), writing constraint_violations.json."""
    from sagemaker.core.model_monitor.dataset_format import DatasetFormat
    from sagemaker.core.workflow.functions import Join
    from sagemaker.mlops.workflow.check_job_config import CheckJobConfig
    from sagemaker.mlops.workflow.quality_check_step import DataQualityCheckConfig, QualityCheckStep

    return QualityCheckStep(
        name=spec.step,
        quality_check_config=DataQualityCheckConfig(
            baseline_dataset=dataset, dataset_format=DatasetFormat.csv(header=True),
            output_s3_uri=Join(on="/", values=[run_prefix, "data-quality"])),
        check_job_config=CheckJobConfig(role=settings.role_arn, instance_count=1, instance_type=instance_type,
                                        base_job_name="data-quality", sagemaker_session=session),
        skip_check=parameters[spec.skip_check_parameter],
        register_new_baseline=parameters[spec.register_baseline_parameter],
        fail_on_violation=parameters[spec.fail_on_violation_parameter],
        supplied_baseline_statistics=parameters[spec.baseline_statistics_parameter],
        supplied_baseline_constraints=parameters[spec.baseline_constraints_parameter],
        model_package_group_name=settings.model_package_group,
    )


def register_model(declaration: PipelineDeclaration, settings: PipelineSettings, session: Any, *, image: str,
                   model_artifacts: Any, evaluate: Any, approval_status: Any, provenance: list[Any],
                   data_check: Any = None) -> Any:
    """The ModelStep that registers the model in the declared group, with its report and provenance, and, with
    `data_check` (a QualityCheck step), the data's statistics and constraints: as the model's data-quality
    metrics (the data it learned from) and as its drift-check baseline (what later data is checked against)."""
    from sagemaker.core.drift_check_baselines import DriftCheckBaselines
    from sagemaker.core.model_metrics import MetricsSource, ModelMetrics
    from sagemaker.core.workflow.functions import Join
    from sagemaker.mlops.workflow.model_step import ModelStep
    from sagemaker.serve.model_builder import ModelBuilder

    report_uri = Join(on="/", values=[
        evaluate.properties.ProcessingOutputConfig.Outputs[declaration.evaluation_output].S3Output.S3Uri,
        declaration.evaluation_report])
    model = ModelBuilder(s3_model_data_url=model_artifacts, image_uri=image, role_arn=settings.role_arn,
                         sagemaker_session=session)
    data_quality: dict[str, Any] = {}
    baselines = None
    if data_check is not None:
        def json_source(uri: Any) -> Any:
            return MetricsSource(s3_uri=uri, content_type="application/json")

        checked = data_check.properties
        data_quality = {"model_data_statistics": json_source(checked.CalculatedBaselineStatistics),
                        "model_data_constraints": json_source(checked.CalculatedBaselineConstraints)}
        baselines = DriftCheckBaselines(
            model_data_statistics=json_source(checked.BaselineUsedForDriftCheckStatistics),
            model_data_constraints=json_source(checked.BaselineUsedForDriftCheckConstraints))
    return ModelStep(
        name=declaration.register_step,
        step_args=model.register(
            model_package_group_name=settings.model_package_group,
            content_types=["text/csv"],
            response_types=["text/csv"],
            inference_instances=["ml.m5.large", "ml.m5.xlarge"],
            transform_instances=["ml.m5.xlarge"],
            approval_status=approval_status,
            model_metrics=ModelMetrics(model_statistics=MetricsSource(s3_uri=report_uri,
                                                                      content_type="application/json"),
                                       **data_quality),
            drift_check_baselines=baselines,
            customer_metadata_properties={parameter.name: parameter for parameter in provenance},
        ),
    )


def quality_gate(declaration: PipelineDeclaration, *, name: str, evaluate: Any, report: Any, threshold: Any,
                 if_steps: list[Any]) -> Any:
    """The ConditionStep on the declared metric against its threshold parameter (the declared direction), whose
    else branch is the declared Fail step."""
    from sagemaker.core.workflow.conditions import ConditionGreaterThanOrEqualTo, ConditionLessThanOrEqualTo
    from sagemaker.core.workflow.functions import Join, JsonGet
    from sagemaker.mlops.workflow.condition_step import ConditionStep
    from sagemaker.mlops.workflow.fail_step import FailStep

    rule = declaration.metric
    value = JsonGet(step_name=evaluate.name, property_file=report, json_path=".".join(rule.path))
    higher = rule.better == "higher"
    condition = (ConditionGreaterThanOrEqualTo if higher else ConditionLessThanOrEqualTo)(left=value, right=threshold)
    fail = FailStep(name=rule.gate_step, error_message=Join(on=" ", values=[
        f"Model {rule.name.upper()}", value, f"is {'below' if higher else 'above'} the {threshold.name}", threshold]))
    return ConditionStep(name=name, conditions=[condition], if_steps=if_steps, else_steps=[fail])
