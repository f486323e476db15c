"""SDK v3 outside pipelines: ModelTrainer runs a standalone training job, and the SDK's generated
resource classes parse what the endpoint answers for every kind of job and registry entity."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.pipelines import ROLE, SKLEARN_IMAGE, XGBOOST_IMAGE, put_script, unique

from .test_standalone_jobs import _csv, processing_request, wait_job


@pytest.fixture(scope="module")
def plain_sdk_session(boto_session: Any, bucket: str) -> Any:
    """SDK v3's Session (jobs run at once, unlike a PipelineSession) bound to the endpoint."""
    from devtools.pipeline_compiler.sdk_session import disable_sdk_side_effects

    disable_sdk_side_effects(boto_session.region_name)
    from sagemaker.core.helper.session_helper import Session

    sdk = Session(boto_session=boto_session, sagemaker_client=boto_session.client("sagemaker"), default_bucket=bucket)
    sdk._default_bucket = bucket  # given and existing: no bucket lookup
    return sdk


def test_model_trainer_runs_a_standalone_training_job_and_waits_for_it(plain_sdk_session, s3, bucket) -> None:
    from sagemaker.train.configs import Compute, InputData, OutputDataConfig
    from sagemaker.train.model_trainer import ModelTrainer

    prefix = unique("trainer")
    s3.put_object(Bucket=bucket, Key=f"{prefix}/train/train.csv", Body=_csv(200, 11))
    trainer = ModelTrainer(
        training_image=XGBOOST_IMAGE, role=ROLE, base_job_name="standalone", sagemaker_session=plain_sdk_session,
        compute=Compute(instance_type="ml.m5.large", instance_count=1),
        output_data_config=OutputDataConfig(s3_output_path=f"s3://{bucket}/{prefix}/out"),
        hyperparameters={"objective": "binary:logistic", "num_round": "5"},
    )
    # logs=False: the SDK's log tailer makes its own CloudWatch client, which ignores the session's endpoint.
    trainer.train(input_data_config=[InputData(channel_name="train", data_source=f"s3://{bucket}/{prefix}/train",
                                               content_type="text/csv")], wait=True, logs=False)
    job = trainer._latest_training_job
    assert job.training_job_status == "Completed"
    assert job.model_artifacts.s3_model_artifacts.startswith(f"s3://{bucket}/{prefix}/out/standalone-")


def test_sdk_resource_classes_parse_the_endpoints_descriptions(sagemaker, boto_session, s3, bucket) -> None:
    from sagemaker.core.resources import (
        Experiment,
        ModelPackage,
        ModelPackageGroup,
        ProcessingJob,
        Trial,
        TrialComponent,
    )

    name = unique("parsed")
    sagemaker.create_processing_job(**processing_request(bucket, put_script(s3, bucket, "print('ok')"), name, image=SKLEARN_IMAGE))
    wait_job(lambda: sagemaker.describe_processing_job(ProcessingJobName=name), "ProcessingJobStatus")
    where = {"session": boto_session, "region": "us-east-1"}
    assert ProcessingJob.get(processing_job_name=name, **where).processing_job_status == "Completed"
    assert TrialComponent.get(trial_component_name=f"{name}-aws-processing-job", **where).status.primary_status == "Completed"

    group = unique("parsed-group")
    sagemaker.create_model_package_group(ModelPackageGroupName=group)
    package = sagemaker.create_model_package(ModelPackageGroupName=group, InferenceSpecification={
        "Containers": [{"Image": XGBOOST_IMAGE}], "SupportedContentTypes": ["text/csv"],
        "SupportedResponseMIMETypes": ["text/csv"]})["ModelPackageArn"]
    assert ModelPackageGroup.get(model_package_group_name=group, **where).model_package_group_name == group
    assert ModelPackage.get(model_package_name=package, **where).model_package_group_name == group

    experiment, trial = unique("parsed-experiment"), unique("parsed-trial")
    sagemaker.create_experiment(ExperimentName=experiment)
    sagemaker.create_trial(TrialName=trial, ExperimentName=experiment)
    assert Experiment.get(experiment_name=experiment, **where).experiment_name == experiment
    assert Trial.get(trial_name=trial, **where).experiment_name == experiment
