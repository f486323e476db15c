"""Each compiled definition is current, and filled in for a deployment it is what the SDK builds for it."""

from __future__ import annotations

import copy
import json
import socket

import pytest
from airflow_sagemaker_pipelines.compiled_pipeline import CompiledPipeline, CompiledPipelineError
from airflow_sagemaker_pipelines.deployment_settings import PipelineSettings, settings_from_mapping

from devtools.pipeline_compiler.compiler import build, compile_pipeline, compiled_text, load_source, pipeline_sources
from tests.support.constants import ROLE_ARN
from tests.support.declarations import CLASSIFICATION, PIPELINES_ROOT, REGRESSION

COMPILED_DEFINITION = CLASSIFICATION.compiled_definition


def classification(region: str, **values: object) -> PipelineSettings:
    return settings_from_mapping(values, region, "the test's settings", CLASSIFICATION)


# Deployments unlike the compile's placeholders in every value, the region's partition included.
DEPLOYMENTS = {
    "eu-west-1": classification("eu-west-1", role_arn=ROLE_ARN, bucket="offline-bucket"),
    "us-east-1, own prefix and group": classification(
        "us-east-1", role_arn="arn:aws:iam::210987654321:role/team/Pipelines", bucket="team.ml-data",
        prefix="ml/pipelines/", model_package_group="churn-models", pipeline_name="churn",
        training_instance_type="ml.c5.2xlarge", min_auc_threshold=0.65, model_approval_status="Approved"),
    "cn-north-1": classification("cn-north-1", role_arn="arn:aws-cn:iam::123456789012:role/R", bucket="cn-bucket"),
    "regression, eu-central-1": settings_from_mapping(
        {"role_arn": ROLE_ARN, "bucket": "reg-bucket", "max_rmse_threshold": 55, "instance_type": "ml.c5.xlarge"},
        "eu-central-1", "the test's settings", REGRESSION),
}
SOURCES = {"regression, eu-central-1": REGRESSION}


def rendered(settings: PipelineSettings, declaration=CLASSIFICATION) -> dict:
    compiled = CompiledPipeline.load(declaration.compiled_definition)
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
        built = {name: build(load_source(SOURCES.get(name, CLASSIFICATION).folder), settings)
                 for name, settings in DEPLOYMENTS.items()}
    finally:
        socket.socket.connect = original  # type: ignore[method-assign]
    assert attempts == [], f"building the definition tried to connect to {attempts}"
    return built


def test_every_example_folder_is_compiled() -> None:
    assert [source.folder.name for source in pipeline_sources()] == ["classification", "regression"]
    assert CLASSIFICATION.folder.parent == PIPELINES_ROOT


@pytest.mark.parametrize("folder", ["classification", "regression"])
def test_each_compiled_definition_is_what_make_pipelines_makes_of_its_source_now(folder: str) -> None:
    source = load_source(PIPELINES_ROOT / folder)
    assert source.compiled_path.read_text() == compiled_text(compile_pipeline(source)), (
        f"{source.compiled_path} is stale against {source.folder}: run `make pipelines` and commit it")


@pytest.mark.parametrize("deployment", list(DEPLOYMENTS))
def test_filled_in_for_a_deployment_it_is_what_the_sdk_builds_for_it(built_offline: dict, deployment: str) -> None:
    assert rendered(DEPLOYMENTS[deployment], SOURCES.get(deployment, CLASSIFICATION)) == built_offline[deployment]


def test_every_parameter_the_dag_sends_is_declared_with_a_compatible_type() -> None:
    definition = rendered(DEPLOYMENTS["eu-west-1"])
    assert definition["Version"] == "2020-12-01"
    assert [step["Name"] for step in definition["Steps"]] == ["PreprocessData", "CheckDataQuality", "TrainModel",
                                                               "EvaluateModel", "CheckModelQuality"]
    assert {item["Name"]: item["Type"] for item in definition["Parameters"]} == {
        **dict.fromkeys(("InputDataUrl", "ProcessingInstanceType", "EvaluationInstanceType", "TrainingInstanceType",
                         "ModelApprovalStatus", "DataDay", "PipelineVersion", "DataFingerprint",
                         "DataQualityBaselineStatistics", "DataQualityBaselineConstraints"), "String"),
        **dict.fromkeys(("SkipDataQualityCheck", "RegisterDataQualityBaseline", "FailOnDataQualityViolation"),
                        "Boolean"),
        "MinAucThreshold": "Float"}


def test_the_data_quality_check_profiles_the_days_data_and_the_package_keeps_its_baselines() -> None:
    definition = rendered(DEPLOYMENTS["eu-west-1"])
    check = next(step for step in definition["Steps"] if step["Name"] == "CheckDataQuality")
    assert check["Type"] == "QualityCheck" and check["CheckType"] == "DATA_QUALITY"
    assert check["Arguments"]["AppSpecification"]["ImageUri"] == (
        "468650794304.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-model-monitor-analyzer")
    assert check["Arguments"]["ProcessingInputs"][0]["S3Input"]["S3Uri"] == {"Get": "Parameters.InputDataUrl"}
    assert json.loads(check["Arguments"]["Environment"]["dataset_format"])["csv"]["header"] is True
    assert {key: check[key] for key in ("SkipCheck", "RegisterNewBaseline", "FailOnViolation",
                                        "SuppliedBaselineStatistics", "SuppliedBaselineConstraints")} == {
        "SkipCheck": {"Get": "Parameters.SkipDataQualityCheck"},
        "RegisterNewBaseline": {"Get": "Parameters.RegisterDataQualityBaseline"},
        "FailOnViolation": {"Get": "Parameters.FailOnDataQualityViolation"},
        "SuppliedBaselineStatistics": {"Get": "Parameters.DataQualityBaselineStatistics"},
        "SuppliedBaselineConstraints": {"Get": "Parameters.DataQualityBaselineConstraints"}}
    defaults = {item["Name"]: item["DefaultValue"] for item in definition["Parameters"]}
    # Started elsewhere (the console), the check is skipped, the data's baseline registered, nothing failed on.
    assert (defaults["SkipDataQualityCheck"], defaults["RegisterDataQualityBaseline"],
            defaults["FailOnDataQualityViolation"]) == (True, True, False)
    gate = next(step for step in definition["Steps"] if step["Name"] == "CheckModelQuality")
    register = gate["Arguments"]["IfSteps"][0]["Arguments"]
    assert register["DriftCheckBaselines"]["ModelDataQuality"]["Statistics"]["S3Uri"] == {
        "Get": "Steps.CheckDataQuality.BaselineUsedForDriftCheckStatistics"}
    assert register["ModelMetrics"]["ModelDataQuality"]["Constraints"]["S3Uri"] == {
        "Get": "Steps.CheckDataQuality.CalculatedBaselineConstraints"}


def test_quality_gate_reads_the_auc_from_the_evaluation_report() -> None:
    definition = rendered(DEPLOYMENTS["us-east-1, own prefix and group"])
    gate = next(step for step in definition["Steps"] if step["Name"] == "CheckModelQuality")
    condition = gate["Arguments"]["Conditions"][0]
    assert condition["Type"] == "GreaterThanOrEqualTo"
    assert condition["LeftValue"]["Std:JsonGet"]["Path"] == "classification_metrics.auc_roc.value"
    assert condition["RightValue"] == {"Get": "Parameters.MinAucThreshold"}
    assert [s["Name"] for s in gate["Arguments"]["IfSteps"]] == ["RegisterModel"]
    assert [(s["Name"], s["Type"]) for s in gate["Arguments"]["ElseSteps"]] == [("ModelQualityTooLow", "Fail")]
    register = gate["Arguments"]["IfSteps"][0]["Arguments"]
    assert register["ModelPackageGroupName"] == "churn-models"
    assert register["ModelApprovalStatus"] == {"Get": "Parameters.ModelApprovalStatus"}
    assert register["CustomerMetadataProperties"] == {
        name: {"Get": f"Parameters.{name}"} for name in ("DataDay", "PipelineVersion", "DataFingerprint")}


def test_the_regression_gate_reads_the_rmse_and_lower_is_better() -> None:
    definition = rendered(DEPLOYMENTS["regression, eu-central-1"], REGRESSION)
    gate = next(step for step in definition["Steps"] if step["Name"] == "CheckModelError")
    condition = gate["Arguments"]["Conditions"][0]
    assert condition["Type"] == "LessThanOrEqualTo"
    assert condition["LeftValue"]["Std:JsonGet"]["Path"] == "regression_metrics.rmse.value"
    assert condition["RightValue"] == {"Get": "Parameters.MaxRmseThreshold"}
    assert [s["Name"] for s in gate["Arguments"]["IfSteps"]] == ["RegisterRegressor"]
    defaults = {item["Name"]: item["DefaultValue"] for item in definition["Parameters"]}
    assert defaults["MaxRmseThreshold"] == 55.0 and defaults["InstanceType"] == "ml.c5.xlarge"
    assert defaults["InputDataUrl"] == "s3://reg-bucket/measurements/"


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
    with pytest.raises(CompiledPipelineError, match=r"has no (sklearn|xgboost|model_monitor)_image for region 'xx-west-9'; it has one for: af-"):
        compiled.render({**values, "region": "xx-west-9"}, {})
    with pytest.raises(CompiledPipelineError, match="needs values for role_arn"):
        compiled.render({name: value for name, value in values.items() if name != "role_arn"}, {})
    with pytest.raises(CompiledPipelineError, match="declares no parameter 'MinAuc'; it declares: DataDay"):
        compiled.render(values, {"MinAuc": 0.5})
    with pytest.raises(CompiledPipelineError, match="parameter MinAucThreshold is a Float: 'high' is not one"):
        compiled.render(values, {"MinAucThreshold": "high"})


def test_a_script_edited_after_the_compile_is_refused(tmp_path) -> None:
    compiled = json.loads(COMPILED_DEFINITION.read_text())
    (tmp_path / "scripts").mkdir()
    for name in compiled["scripts"]["files"]:
        (tmp_path / "scripts" / name).write_text("print('edited')\n")
    (tmp_path / "compiled.json").write_text(json.dumps(compiled))
    with pytest.raises(CompiledPipelineError, match=r"evaluate.py, preprocess.py changed after .* was compiled: run "
                                                    "`make pipelines`"):
        CompiledPipeline.load(tmp_path / "compiled.json").scripts("pipeline")


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
        ("training_instance_type", "m5.xlarge", "training_instance_type='m5.xlarge' is invalid: expected an ml.* "
                                                "instance type such as ml.m5.xlarge"),
        ("min_auc_threshold", 1.5, "min_auc_threshold=1.5 is invalid: expected AUC from 0 to 1"),
        ("min_auc_threshold", "0.7", "expected a float like its default 0.7"),
        ("model_approval_status", "Pending", "expected Approved, Rejected or PendingManualApproval"),
        ("pipline_name", "x", "has unknown keys pipline_name; allowed: bucket, data_capture_percent, data_capture_prefix, endpoint_instance_count"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(field: str, value: object, expected: str) -> None:
    values = {"role_arn": "arn:aws:iam::123456789012:role/R", "bucket": "ok-bucket", field: value}
    with pytest.raises(ValueError, match=expected.replace("*", r"\*").replace("(", r"\(")) as error:
        settings_from_mapping(values, "us-east-1", "Airflow Variable sagemaker_pipelines_settings", CLASSIFICATION)
    assert str(error.value).startswith("Airflow Variable sagemaker_pipelines_settings")


def test_settings_without_bucket_or_role_are_refused_unless_the_pipeline_exists_already() -> None:

    with pytest.raises(ValueError, match="lacks role_arn"):
        settings_from_mapping({"bucket": "ok-bucket"}, "us-east-1", "settings", CLASSIFICATION)
    existing = CLASSIFICATION._replace(existing=True)
    assert settings_from_mapping({"bucket": "ok-bucket"}, "us-east-1", "settings", existing).bucket == "ok-bucket"
