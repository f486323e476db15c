"""The compiled definition is current, and filled in for a deployment it is what the SDK builds for it."""

from __future__ import annotations

import copy
import json
import socket

import pytest
from airflow_sagemaker_pipelines.compiled_pipeline import CompiledPipeline, CompiledPipelineError

from devtools.pipeline_compiler.compiler import build, compile_pipeline, compiled_text
from include.pipelines.contract import AUC_JSON_PATH, PARAMETER_TYPES
from include.pipelines.deployment import COMPILED_DEFINITION
from include.pipelines.settings import PipelineSettings
from tests.support.constants import ROLE_ARN

# Deployments unlike the compile's placeholders in every value, the region's partition included.
DEPLOYMENTS = {
    "eu-west-1": PipelineSettings(region="eu-west-1", role_arn=ROLE_ARN, bucket="offline-bucket"),
    "us-east-1, own prefix and group": PipelineSettings(
        region="us-east-1", role_arn="arn:aws:iam::210987654321:role/team/Pipelines", bucket="team.ml-data",
        prefix="ml/pipelines/", model_package_group="churn-models", pipeline_name="churn",
        training_instance_type="ml.c5.2xlarge", min_auc_threshold=0.65, model_approval_status="Approved"),
    "cn-north-1": PipelineSettings(region="cn-north-1", role_arn="arn:aws-cn:iam::123456789012:role/R", bucket="cn-bucket"),
}


def rendered(settings: PipelineSettings) -> dict:
    compiled = CompiledPipeline.load(COMPILED_DEFINITION)
    return json.loads(compiled.render(settings.template_values(), settings.parameter_defaults()))


@pytest.fixture(scope="module")
def built_offline() -> dict[str, dict]:
    """What the SDK builds for each deployment, with every socket connection refused, loopback included."""
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError(f"network access attempted: {address}")

    original = socket.socket.connect
    socket.socket.connect = refuse  # type: ignore[method-assign]
    try:
        built = {name: build(settings) for name, settings in DEPLOYMENTS.items()}
    finally:
        socket.socket.connect = original  # type: ignore[method-assign]
    assert attempts == [], f"building the definition tried to connect to {attempts}"
    return built


def test_the_compiled_definition_is_what_make_pipelines_makes_of_the_source_now() -> None:
    assert COMPILED_DEFINITION.read_text() == compiled_text(compile_pipeline()), (
        f"{COMPILED_DEFINITION} is stale against include/pipelines: run `make pipelines` and commit it")


@pytest.mark.parametrize("deployment", list(DEPLOYMENTS))
def test_filled_in_for_a_deployment_it_is_what_the_sdk_builds_for_it(built_offline: dict, deployment: str) -> None:
    assert rendered(DEPLOYMENTS[deployment]) == built_offline[deployment]


def test_every_parameter_the_dag_sends_is_declared_with_a_compatible_type() -> None:
    definition = rendered(DEPLOYMENTS["eu-west-1"])
    assert definition["Version"] == "2020-12-01"
    assert [step["Name"] for step in definition["Steps"]] == ["PreprocessData", "TrainModel", "EvaluateModel",
                                                               "CheckModelQuality"]
    assert {item["Name"]: item["Type"] for item in definition["Parameters"]} == PARAMETER_TYPES


def test_quality_gate_reads_the_auc_from_the_evaluation_report() -> None:
    definition = rendered(DEPLOYMENTS["us-east-1, own prefix and group"])
    gate = next(step for step in definition["Steps"] if step["Name"] == "CheckModelQuality")
    condition = gate["Arguments"]["Conditions"][0]
    assert condition["Type"] == "GreaterThanOrEqualTo"
    assert condition["LeftValue"]["Std:JsonGet"]["Path"] == AUC_JSON_PATH
    assert condition["RightValue"] == {"Get": "Parameters.MinAucThreshold"}
    assert [s["Name"] for s in gate["Arguments"]["IfSteps"]] == ["RegisterModel"]
    assert [s["Type"] for s in gate["Arguments"]["ElseSteps"]] == ["Fail"]
    register = gate["Arguments"]["IfSteps"][0]["Arguments"]
    assert register["ModelPackageGroupName"] == "churn-models"
    assert register["ModelApprovalStatus"] == {"Get": "Parameters.ModelApprovalStatus"}
    assert register["CustomerMetadataProperties"] == {
        name: {"Get": f"Parameters.{name}"} for name in ("DataDay", "PipelineVersion", "DataFingerprint")}


def test_the_settings_choose_the_parameter_defaults_and_the_regions_images() -> None:
    definition = rendered(DEPLOYMENTS["us-east-1, own prefix and group"])
    defaults = {item["Name"]: item["DefaultValue"] for item in definition["Parameters"]}
    assert defaults["TrainingInstanceType"] == "ml.c5.2xlarge" and defaults["MinAucThreshold"] == 0.65
    assert defaults["ModelApprovalStatus"] == "Approved" and defaults["InputDataUrl"] == "s3://team.ml-data/raw-data/"
    text = json.dumps(rendered(DEPLOYMENTS["eu-west-1"]))
    assert "sagemaker-scikit-learn:1.2-1" in text and "sagemaker-xgboost:1.7-1" in text
    assert ".dkr.ecr.eu-west-1.amazonaws.com/" in text and "us-east-1" not in text and "${" not in text


def test_a_region_without_the_images_a_missing_value_or_a_wrong_parameter_is_refused_by_name() -> None:
    compiled = CompiledPipeline.load(COMPILED_DEFINITION)
    values = DEPLOYMENTS["eu-west-1"].template_values()
    with pytest.raises(CompiledPipelineError, match="has no sklearn_image for region 'xx-west-9'; it has one for: af-"):
        compiled.render({**values, "region": "xx-west-9"}, {})
    with pytest.raises(CompiledPipelineError, match="needs values for role_arn"):
        compiled.render({name: value for name, value in values.items() if name != "role_arn"}, {})
    with pytest.raises(CompiledPipelineError, match="declares no parameter 'MinAuc'; it declares: DataDay"):
        compiled.render(values, {"MinAuc": 0.5})
    with pytest.raises(CompiledPipelineError, match="parameter MinAucThreshold is a Float: 'high' is not one"):
        compiled.render(values, {"MinAucThreshold": "high"})


def test_a_script_edited_after_the_compile_is_refused(tmp_path) -> None:
    compiled = json.loads(COMPILED_DEFINITION.read_text())
    (tmp_path / "compiled").mkdir()
    (tmp_path / "scripts").mkdir()
    for name in compiled["scripts"]["files"]:
        (tmp_path / "scripts" / name).write_text("print('edited')\n")
    (tmp_path / "compiled" / "pipeline.json").write_text(json.dumps(compiled))
    with pytest.raises(CompiledPipelineError, match=r"evaluate.py, preprocess.py changed after .* was compiled: run "
                                                    "`make pipelines`"):
        CompiledPipeline.load(tmp_path / "compiled" / "pipeline.json").scripts("pipeline")


@pytest.mark.parametrize("broken", ["missing", "not json", "other format"])
def test_a_missing_or_foreign_file_says_to_compile(tmp_path, broken: str) -> None:
    path = tmp_path / "pipeline.json"
    if broken == "not json":
        path.write_text("{")
    elif broken == "other format":
        path.write_text(json.dumps({**json.loads(COMPILED_DEFINITION.read_text()), "format": 99}))
    with pytest.raises(CompiledPipelineError, match="run `make pipelines`"):
        CompiledPipeline.load(path)


def test_rendering_leaves_the_compiled_template_as_it_was() -> None:
    compiled = CompiledPipeline.load(COMPILED_DEFINITION)
    before = copy.deepcopy(compiled.definition)
    compiled.render(DEPLOYMENTS["eu-west-1"].template_values(), {"MinAucThreshold": 0.9})
    assert compiled.definition == before


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("role_arn", "SageMakerRole", "PipelineSettings.role_arn='SageMakerRole' is invalid"),
        ("bucket", "My_Bucket", "PipelineSettings.bucket='My_Bucket' is invalid"),
        ("prefix", "/abs", "PipelineSettings.prefix='/abs' is invalid"),
        ("training_instance_type", "m5.xlarge", "expected an ml.* instance type"),
        ("min_auc_threshold", 1.5, "must be between 0 and 1"),
        ("model_approval_status", "Pending", "allowed: Approved, Rejected, PendingManualApproval"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(field: str, value: object, expected: str) -> None:
    arguments = {"region": "us-east-1", "role_arn": "arn:aws:iam::123456789012:role/R", "bucket": "ok-bucket", field: value}
    with pytest.raises(ValueError, match=expected.replace("*", r"\*").replace("(", r"\(")):
        PipelineSettings(**arguments)


def test_unrecorded_provenance_is_spelled_as_the_plugin_reads_it() -> None:
    from airflow_sagemaker_pipelines.payloads import UNRECORDED

    from include.pipelines.contract import UNRECORDED as CONTRACT_UNRECORDED

    assert CONTRACT_UNRECORDED == UNRECORDED
