"""CacheConfig in every documented ExpireAfter form, and PipelineExperimentConfig, with SDK v3 steps."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.pipelines import ROLE, SKLEARN_IMAGE, put_script, steps_by_name, unique, wait_for

from .sdk_pipelines import run_sdk_pipeline

# AWS's "Turn on step caching" page: 30d, 5y, T16m, 30dT5h; and ISO 8601 with its P.
EXPIRE_AFTER_FORMS = ("30d", "5y", "T16m", "30dT5h", "P30D", "PT1H")
STAMP_SCRIPT = """
import pathlib, sys, time
out = pathlib.Path('/opt/ml/processing/output/stamp')
out.mkdir(parents=True, exist_ok=True)
(out / 'stamp.txt').write_text(f'{sys.argv[1]} {time.time_ns()}')
"""


def _processing_step(sdk_session: Any, name: str, code: str, arguments: list[str], output_uri: Any, **options: Any) -> Any:
    from sagemaker.core.processing import ScriptProcessor
    from sagemaker.core.shapes import ProcessingOutput, ProcessingS3Output
    from sagemaker.mlops.workflow.steps import ProcessingStep

    processor = ScriptProcessor(role=ROLE, image_uri=SKLEARN_IMAGE, command=["python3"], instance_type="ml.m5.large",
                                instance_count=1, base_job_name="stamp", sagemaker_session=sdk_session)
    outputs = [ProcessingOutput(output_name="stamp", s3_output=ProcessingS3Output(
        s3_uri=output_uri, local_path="/opt/ml/processing/output/stamp", s3_upload_mode="EndOfJob"))]
    return ProcessingStep(name=name, step_args=processor.run(code=code, outputs=outputs, arguments=arguments), **options)


def _per_execution(bucket: str, prefix: str) -> Any:
    from sagemaker.core.workflow.execution_variables import ExecutionVariables
    from sagemaker.core.workflow.functions import Join

    return Join(on="/", values=[f"s3://{bucket}/{prefix}", ExecutionVariables.PIPELINE_EXECUTION_ID])


def test_cache_config_in_every_documented_expire_after_form_hits_on_the_second_execution(sagemaker, sdk_session, s3, bucket) -> None:
    from sagemaker.mlops.workflow.steps import CacheConfig

    code = f"s3://{bucket}/{put_script(s3, bucket, STAMP_SCRIPT)}"
    steps = [
        _processing_step(sdk_session, f"Cached-{index}", code, [form], _per_execution(bucket, f"cache/{index}"),
                         cache_config=CacheConfig(enable_caching=True, expire_after=form))
        for index, form in enumerate(EXPIRE_AFTER_FORMS)
    ]
    pipeline, first, description = run_sdk_pipeline(sagemaker, sdk_session, steps)
    assert description["PipelineExecutionStatus"] == "Succeeded", description.get("FailureReason")
    second = pipeline.start().arn
    assert wait_for(sagemaker, second)["PipelineExecutionStatus"] == "Succeeded"
    first_steps, second_steps = steps_by_name(sagemaker, first), steps_by_name(sagemaker, second)
    for index, form in enumerate(EXPIRE_AFTER_FORMS):
        step = second_steps[f"Cached-{index}"]
        # The output path changes with each execution, yet the step hits: it is no cache key attribute.
        assert step.get("CacheHitResult", {}).get("SourcePipelineExecutionArn") == first, form
        assert step["Metadata"] == first_steps[f"Cached-{index}"]["Metadata"]
    second_id = second.rsplit("/", 1)[-1]
    assert s3.list_objects_v2(Bucket=bucket, Prefix=f"cache/0/{second_id}").get("KeyCount") == 0, "a cached step ran again"


def test_experiment_and_trial_per_execution_outlive_the_pipeline(sagemaker, sdk_session, s3, bucket) -> None:
    from sagemaker.core.workflow.execution_variables import ExecutionVariables
    from sagemaker.core.workflow.functions import Join
    from sagemaker.mlops.workflow.pipeline_experiment_config import PipelineExperimentConfig

    experiment = unique("experiment")
    code = f"s3://{bucket}/{put_script(s3, bucket, STAMP_SCRIPT)}"
    step = _processing_step(sdk_session, "Stamp", code, ["x"], _per_execution(bucket, "experiment"))
    config = PipelineExperimentConfig(experiment, Join(on="-", values=["run", ExecutionVariables.PIPELINE_EXECUTION_ID]))
    pipeline, arn, description = run_sdk_pipeline(sagemaker, sdk_session, [step], pipeline_experiment_config=config)
    assert description["PipelineExecutionStatus"] == "Succeeded", description.get("FailureReason")
    trial = f"run-{arn.rsplit('/', 1)[-1]}"
    assert description["PipelineExperimentConfig"] == {"ExperimentName": experiment, "TrialName": trial}
    job_name = steps_by_name(sagemaker, arn)["Stamp"]["Metadata"]["ProcessingJob"]["Arn"].rsplit("/", 1)[-1]
    job = sagemaker.describe_processing_job(ProcessingJobName=job_name)
    assert job["ExperimentConfig"] == {"ExperimentName": experiment, "TrialName": trial, "TrialComponentDisplayName": "Stamp"}
    components = sagemaker.list_trial_components(TrialName=trial)["TrialComponentSummaries"]
    assert [c["TrialComponentName"] for c in components] == [f"{job['ProcessingJobName']}-aws-processing-job"]
    component = sagemaker.describe_trial_component(TrialComponentName=components[0]["TrialComponentName"])
    assert component["Source"] == {"SourceArn": job["ProcessingJobArn"], "SourceType": "SageMakerProcessingJob"}
    assert component["Status"]["PrimaryStatus"] == "Completed"

    pipeline.delete()
    assert sagemaker.describe_experiment(ExperimentName=experiment)["ExperimentName"] == experiment
    assert [t["TrialName"] for t in sagemaker.list_trials(ExperimentName=experiment)["TrialSummaries"]] == [trial]
    # Deleting bottom-up is the only way, as on AWS.
    with pytest.raises(ClientError, match="still has 1 trial"):
        sagemaker.delete_experiment(ExperimentName=experiment)
    with pytest.raises(ClientError, match="still has 1 trial component"):
        sagemaker.delete_trial(TrialName=trial)
    sagemaker.disassociate_trial_component(TrialName=trial, TrialComponentName=components[0]["TrialComponentName"])
    sagemaker.delete_trial(TrialName=trial)
    sagemaker.delete_experiment(ExperimentName=experiment)
    with pytest.raises(ClientError) as raised:
        sagemaker.describe_experiment(ExperimentName=experiment)
    assert raised.value.response["Error"]["Code"] == "ResourceNotFound"


def test_default_experiment_is_the_pipeline_and_none_creates_nothing(sagemaker, sdk_session) -> None:
    from sagemaker.mlops.workflow.fail_step import FailStep

    default, arn, _ = run_sdk_pipeline(sagemaker, sdk_session, [FailStep(name="F", error_message="x")])
    assert sagemaker.describe_experiment(ExperimentName=default.name)["ExperimentName"] == default.name
    trials = sagemaker.list_trials(ExperimentName=default.name)["TrialSummaries"]
    assert [t["TrialName"] for t in trials] == [arn.rsplit("/", 1)[-1]]

    without, _, _ = run_sdk_pipeline(sagemaker, sdk_session, [FailStep(name="F", error_message="x")],
                                     pipeline_experiment_config=None)
    with pytest.raises(ClientError) as raised:
        sagemaker.describe_experiment(ExperimentName=without.name)
    assert raised.value.response["Error"]["Code"] == "ResourceNotFound"
    assert without.name in raised.value.response["Error"]["Message"]


@pytest.mark.parametrize(
    ("call", "arguments"),
    [("describe_experiment", {"ExperimentName": "nope"}), ("describe_trial", {"TrialName": "nope"}),
     ("delete_experiment", {"ExperimentName": "nope"}), ("delete_trial", {"TrialName": "nope"}),
     ("describe_trial_component", {"TrialComponentName": "nope"}), ("list_trials", {"ExperimentName": "nope"})],
)
def test_unknown_experiment_entity_is_resource_not_found(sagemaker, call: str, arguments: dict[str, str]) -> None:
    with pytest.raises(ClientError) as raised:
        getattr(sagemaker, call)(**arguments)
    assert raised.value.response["Error"]["Code"] == "ResourceNotFound"
    assert "'arn:aws:sagemaker:us-east-1:123456789012:experiment" in raised.value.response["Error"]["Message"]


def test_creating_an_existing_experiment_says_it_already_exists(sagemaker) -> None:
    name = unique("experiment")
    sagemaker.create_experiment(ExperimentName=name)
    with pytest.raises(ClientError) as raised:
        sagemaker.create_experiment(ExperimentName=name)
    # What SDK v3's load-or-create looks for (sagemaker.core.experiments._utils.is_already_exist_error).
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert "already exists" in raised.value.response["Error"]["Message"]
