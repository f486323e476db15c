"""A TuningStep built with SDK v3's HyperparameterTuner, run on the endpoint, its top model read by the next step."""

from __future__ import annotations

from tests.support.pipelines import ROLE, XGBOOST_IMAGE, steps_by_name, unique

from .sdk_pipelines import run_sdk_pipeline
from .test_standalone_jobs import _csv


def test_tuning_step_runs_the_trials_and_its_top_model_feeds_a_model_step(sagemaker, sdk_session, s3, bucket) -> None:
    from sagemaker.core.parameter import ContinuousParameter, IntegerParameter
    from sagemaker.mlops.workflow.model_step import ModelStep
    from sagemaker.mlops.workflow.steps import TuningStep
    from sagemaker.serve.model_builder import ModelBuilder
    from sagemaker.train.configs import Compute, InputData, OutputDataConfig
    from sagemaker.train.model_trainer import ModelTrainer
    from sagemaker.train.tuner import HyperparameterTuner

    prefix = unique("sdk-tuning")
    s3.put_object(Bucket=bucket, Key=f"{prefix}/train/train.csv", Body=_csv(200, 21))
    s3.put_object(Bucket=bucket, Key=f"{prefix}/validation/validation.csv", Body=_csv(80, 22))
    trainer = ModelTrainer(
        training_image=XGBOOST_IMAGE, role=ROLE, base_job_name="sdk-tune", sagemaker_session=sdk_session,
        compute=Compute(instance_type="ml.m5.large", instance_count=1, volume_size_in_gb=10),
        output_data_config=OutputDataConfig(s3_output_path=f"s3://{bucket}/{prefix}/models"),
        hyperparameters={"objective": "binary:logistic", "num_round": "5"},
    )
    tuner = HyperparameterTuner(
        model_trainer=trainer, objective_metric_name="validation:logloss", objective_type="Minimize",
        hyperparameter_ranges={"max_depth": IntegerParameter(1, 5), "eta": ContinuousParameter(0.05, 0.5)},
        strategy="Random", max_jobs=4, max_parallel_jobs=2,
    )
    tune = TuningStep(name="Tune", step_args=tuner.tune(inputs=[
        InputData(channel_name="train", data_source=f"s3://{bucket}/{prefix}/train", content_type="text/csv"),
        InputData(channel_name="validation", data_source=f"s3://{bucket}/{prefix}/validation", content_type="text/csv"),
    ], wait=False))
    top_model = tune.get_top_model_s3_uri(top_k=0, s3_bucket=bucket, prefix=f"{prefix}/models")
    create = ModelStep(name="TopModel", step_args=ModelBuilder(
        s3_model_data_url=top_model, image_uri=XGBOOST_IMAGE, role_arn=ROLE, sagemaker_session=sdk_session).build())

    _, arn, description = run_sdk_pipeline(sagemaker, sdk_session, [tune, create], timeout=240)
    assert description["PipelineExecutionStatus"] == "Succeeded", description.get("FailureReason")
    listed = steps_by_name(sagemaker, arn)
    tuning_name = listed["Tune"]["Metadata"]["TuningJob"]["Arn"].rsplit("/", 1)[-1]
    tuning = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=tuning_name)
    assert tuning["HyperParameterTuningJobStatus"] == "Completed"
    assert tuning["TrainingJobStatusCounters"]["Completed"] == 4
    trials = sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=tuning_name)["TrainingJobSummaries"]
    best = min(trials, key=lambda t: t["FinalHyperParameterTuningJobObjectiveMetric"]["Value"])
    assert tuning["BestTrainingJob"]["TrainingJobName"] == best["TrainingJobName"]

    model_name = listed["TopModel"]["Metadata"]["Model"]["Arn"].rsplit("/", 1)[-1]
    model = sagemaker.describe_model(ModelName=model_name)
    expected = f"s3://{bucket}/{prefix}/models/{best['TrainingJobName']}/output/model.tar.gz"
    assert model["PrimaryContainer"]["ModelDataUrl"] == expected
    s3.head_object(Bucket=bucket, Key=expected.split("/", 3)[3])  # the best trial's artifact is there
