"""TrainingStep (ModelTrainer), ModelStep (ModelBuilder.build and .register) and TransformStep
(Transformer), built with SDK v3's classes and run on the endpoint."""

from __future__ import annotations

import io

import numpy as np

from tests.support.pipelines import ROLE, XGBOOST_IMAGE, steps_by_name, unique

from .sdk_pipelines import run_sdk_pipeline


def _csv(rows: int, seed: int, label: bool) -> bytes:
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(rows, 3))
    target = (features[:, 0] - features[:, 2] > 0).astype(int)
    buffer = io.StringIO()
    np.savetxt(buffer, np.column_stack([target, features]) if label else features, delimiter=",", fmt="%.5f")
    return buffer.getvalue().encode()


def test_train_create_model_batch_transform_and_register_with_sdk_steps(sagemaker, sdk_session, s3, bucket) -> None:
    from sagemaker.core.transformer import Transformer
    from sagemaker.mlops.workflow.model_step import ModelStep
    from sagemaker.mlops.workflow.steps import TrainingStep, TransformStep
    from sagemaker.serve.model_builder import ModelBuilder
    from sagemaker.train.configs import Compute, InputData, OutputDataConfig
    from sagemaker.train.model_trainer import ModelTrainer

    prefix = unique("sdk-steps")
    s3.put_object(Bucket=bucket, Key=f"{prefix}/train/train.csv", Body=_csv(300, 1, label=True))
    s3.put_object(Bucket=bucket, Key=f"{prefix}/batch/a.csv", Body=_csv(40, 2, label=False))
    s3.put_object(Bucket=bucket, Key=f"{prefix}/batch/b.csv", Body=_csv(15, 3, label=False))
    trainer = ModelTrainer(
        training_image=XGBOOST_IMAGE, role=ROLE, base_job_name="sdk-train", sagemaker_session=sdk_session,
        compute=Compute(instance_type="ml.m5.large", instance_count=1, volume_size_in_gb=10),
        output_data_config=OutputDataConfig(s3_output_path=f"s3://{bucket}/{prefix}/model"),
        hyperparameters={"objective": "binary:logistic", "num_round": "10", "max_depth": "3"},
    )
    train = TrainingStep(name="Train", step_args=trainer.train(input_data_config=[
        InputData(channel_name="train", data_source=f"s3://{bucket}/{prefix}/train", content_type="text/csv")]))
    artifacts = train.properties.ModelArtifacts.S3ModelArtifacts
    create = ModelStep(name="CreateModel", step_args=ModelBuilder(
        s3_model_data_url=artifacts, image_uri=XGBOOST_IMAGE, role_arn=ROLE, sagemaker_session=sdk_session).build())
    transformer = Transformer(model_name=create.properties.ModelName, instance_count=1, instance_type="ml.m5.large",
                              output_path=f"s3://{bucket}/{prefix}/predictions", accept="text/csv", assemble_with="Line",
                              strategy="MultiRecord", sagemaker_session=sdk_session)
    transform = TransformStep(name="Transform", step_args=transformer.transform(
        data=f"s3://{bucket}/{prefix}/batch", content_type="text/csv", split_type="Line"))
    group = unique("sdk-group")
    register = ModelStep(name="Register", step_args=ModelBuilder(
        s3_model_data_url=artifacts, image_uri=XGBOOST_IMAGE, role_arn=ROLE, sagemaker_session=sdk_session,
    ).register(model_package_group_name=group, content_types=["text/csv"], response_types=["text/csv"],
               inference_instances=["ml.m5.large"], transform_instances=["ml.m5.large"], approval_status="Approved"))

    _, arn, description = run_sdk_pipeline(sagemaker, sdk_session, [train, create, transform, register], timeout=300)
    assert description["PipelineExecutionStatus"] == "Succeeded", description.get("FailureReason")
    listed = steps_by_name(sagemaker, arn)
    assert {name: step["StepStatus"] for name, step in listed.items()} == dict.fromkeys(listed, "Succeeded")

    transform_job = sagemaker.describe_transform_job(
        TransformJobName=listed["Transform"]["Metadata"]["TransformJob"]["Arn"].rsplit("/", 1)[-1])
    assert transform_job["ModelName"] == listed["CreateModel"]["Metadata"]["Model"]["Arn"].rsplit("/", 1)[-1]
    outputs = {key: s3.get_object(Bucket=bucket, Key=f"{prefix}/predictions/{key}")["Body"].read().decode().splitlines()
               for key in ("a.csv.out", "b.csv.out")}
    assert (len(outputs["a.csv.out"]), len(outputs["b.csv.out"])) == (40, 15)
    assert all(0.0 <= float(value) <= 1.0 for value in outputs["a.csv.out"])

    packages = sagemaker.list_model_packages(ModelPackageGroupName=group)["ModelPackageSummaryList"]
    assert [p["ModelApprovalStatus"] for p in packages] == ["Approved"]
    trial = arn.rsplit("/", 1)[-1]  # the SDK's default PipelineExperimentConfig
    components = {c["TrialComponentName"] for c in sagemaker.list_trial_components(TrialName=trial)["TrialComponentSummaries"]}
    training_job = sagemaker.describe_training_job(
        TrainingJobName=listed["Train"]["Metadata"]["TrainingJob"]["Arn"].rsplit("/", 1)[-1])
    assert components == {f"{transform_job['TransformJobName']}-aws-transform-job",
                          f"{training_job['TrainingJobName']}-aws-training-job"}
