"""A pipeline folder's declaration: read strictly, checked against its compiled definition, and against the others.

Every bad declaration is refused with the file and the key named, and what is allowed.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from airflow_sagemaker_pipelines.declarations import DeclarationError, load_declaration
from airflow_sagemaker_pipelines.definition_checks import check_definition
from airflow_sagemaker_pipelines.pipeline_catalog import FOLDERS_ENV, PACKAGES_ENV, declared_pipelines

from tests.support.constants import PIPELINE_DAY
from tests.support.declarations import CLASSIFICATION, PIPELINES_ROOT, REGRESSION


def pipeline_folder(root: Path, name: str, edit=lambda text: text, source: str = "regression") -> Path:
    """A copy of an example pipeline's folder under `root`, its pipeline.toml edited by `edit`."""
    folder = root / name
    shutil.copytree(PIPELINES_ROOT / source, folder, ignore=shutil.ignore_patterns("__pycache__"))
    declaration = folder / "pipeline.toml"
    declaration.write_text(edit(declaration.read_text()))
    return folder


def replaced(old: str, new: str):
    def edit(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, 1)
    return edit


def renamed(text: str) -> str:
    """The regression example as another pipeline: its own SageMaker name and registry group."""
    return text.replace('name = "ml-regression-pipeline"', 'name = "forecast-pipeline"').replace(
        'model_package_group = "regression-models"', 'model_package_group = "forecast-models"')


@pytest.fixture(autouse=True)
def no_folders_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(FOLDERS_ENV, raising=False)
    monkeypatch.delenv(PACKAGES_ENV, raising=False)


def test_the_examples_declare_what_their_dags_need() -> None:
    assert (CLASSIFICATION.name, CLASSIFICATION.dag_id, CLASSIFICATION.model_package_group) == (
        "ml-classification-pipeline", "sagemaker_training_pipeline", "classification-models")
    assert (CLASSIFICATION.metric.name, CLASSIFICATION.metric.better, CLASSIFICATION.metric.fraction) == (
        "auc", "higher", True)
    assert (REGRESSION.dag_id, REGRESSION.settings_variable) == (
        "regression_training", "sagemaker_pipelines_regression_settings")  # the defaults, from the folder's name
    assert (REGRESSION.metric.name, REGRESSION.metric.better, REGRESSION.metric.fraction) == ("rmse", "lower", False)
    assert REGRESSION.partition_uri("bucket", None) == "s3://bucket/measurements/"


@pytest.mark.parametrize(("edit", "key", "allowed"), [
    (replaced('name = "ml-regression-pipeline"\n', ""), "[pipeline] name", "missing; expected a SageMaker pipeline name"),
    (replaced("[pipeline]\n", "[pipeline]\nowner = \"me\"\n"), "[pipeline] owner", "unknown key"),
    (replaced("[metric]\n", "[metric]\ndirection = \"up\"\n"), "[metric] direction", "unknown key"),
    (replaced('better = "lower"', 'better = "smaller"'), "[metric] better", "expected higher (AUC, accuracy) or lower"),
    (replaced("threshold = 70.0", "threshold = 7000.0"), "[metric] threshold", "within the range [0.0, 1000.0]"),
    (replaced("threshold = 70.0", 'threshold = "70"'), "[metric] threshold", "expected a whole number or a number"),
    (replaced('partitioning = "daily"', 'partitioning = "weekly"'), "[schedule] partitioning",
     "expected daily (one run per day of data) or none"),
    (replaced('cron = "0 2 * * *"', 'cron = "0 * * * *"'), "[schedule] cron", "a daily cron expression"),
    (replaced("first_day = 2024-01-01", 'first_day = "Jan 1"'), "[schedule] first_day", "YYYY-MM-DD"),
    (replaced('path = "regression_metrics.rmse.value"', 'path = "regression_metrics..value"'), "[metric] path",
     "a dotted path in the report"),
    (replaced('model_package_group = "regression-models"', 'model_package_group = "regression_models"'),
     "[registry] model_package_group", "letters, digits, hyphens"),
    (replaced("[metrics]\n", "[metrics]\nrmse = \"x.y\"\n"), "[metrics] rmse", "named twice"),
    (replaced("[data]\n", "[dataset]\n"), "[dataset]", "not a section this package knows"),
    (lambda text: text.replace('name = "rmse"', 'name = "r2_score"') + '\n[deploy]\nholdout = "test/test.csv"\n',
     "[deploy]", "the smoke test computes auc, rmse, mae, accuracy, not the [metric] 'r2_score'"),
    (lambda text: text + '\n[deploy]\nholdout = "/test.csv"\n', "[deploy] holdout", "a path such as test/test.csv"),
    (lambda text: text + '\n[events]\nqueue = "https://sqs.eu-west-1.amazonaws.com/1/q"\n', "[events] queue",
     "an SQS queue's name (not its URL)"),
    (lambda text: text + "\n[events]\n", "[events] queue", "missing; expected an SQS queue's name"),
    (lambda text: text.replace('partitioning = "daily"', 'partitioning = "none"').replace('cron = "0 2 * * *"\n', "")
     .replace("first_day = 2024-01-01\n", "") + '\n[events]\nqueue = "q"\n',
     "[events]", "partitioning must be daily"),
    (lambda text: text + '\n[data_quality]\n', "[data_quality] step", "missing; expected the pipeline's QualityCheck"),
    (lambda text: text + '\n[data_quality]\nstep = "Check"\nmonitor_endpoint = true\n', "[data_quality] monitor_endpoint",
     "declare [deploy] too"),
    (lambda text: text + '\n[data_quality]\nstep = "Check"\nskip_check_parameter = "Skip Check"\n',
     "[data_quality] skip_check_parameter", "a pipeline parameter name"),
    (lambda text: text + '\n[data_quality]\nstep = "Check"\nmonitoring_cron = "0 * * * *"\n',
     "[data_quality] monitoring_cron", "a daily cron expression"),
    (lambda text: text + '\n[data_quality]\nstep = "Check"\nskip_check_parameter = "Same"\n'
     'register_baseline_parameter = "Same"\n', "[data_quality]", "distinct names"),
    (replaced("pattern = '^ml\\.[a-z0-9]+\\.[a-z0-9]+$'", "pattern = '^ml\\.[a-z]+$'"),
     "[settings.instance_type] default", "does not match its pattern"),
])
def test_a_bad_declaration_is_refused_naming_the_file_the_key_and_what_is_allowed(tmp_path, edit, key, allowed) -> None:
    folder = pipeline_folder(tmp_path, "forecast", edit)

    with pytest.raises(DeclarationError) as refused:
        load_declaration(folder)

    message = str(refused.value)
    assert message.startswith(f"{folder / 'pipeline.toml'}: {key}"), message
    assert allowed in message, message


def test_a_folder_whose_name_is_no_identifier_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DeclarationError, match="the folder name 'my-model' must be a Python identifier"):
        load_declaration(pipeline_folder(tmp_path, "my-model"))


@pytest.mark.parametrize(("edit", "message"), [
    (replaced('step = "EvaluateRegressor"', 'step = "Evaluate"'),
     r"\[evaluation\] step: 'Evaluate' is not a step of the compiled definition compiled.json \(it has .*"
     r"EvaluateRegressor"),
    (replaced('parameter = "InputDataUrl"', 'parameter = "InputData"'),
     r"\[data\] parameter: 'InputData' is not a parameter of the compiled definition .*InputDataUrl"),
    (replaced('output = "evaluation"', 'output = "report"'),
     r"\[evaluation\] output: 'report' is not a processing output of step EvaluateRegressor"),
    (replaced('path = "regression_metrics.rmse.value"', 'path = "regression_metrics.mae.value"'),
     r"\[metric\] path: 'regression_metrics.mae.value' is not the report's path the pipeline's gate compares "
     r"with MaxRmseThreshold \(regression_metrics.rmse.value\)"),
    (replaced('gate_step = "ModelErrorTooHigh"', 'gate_step = "TooHigh"'), r"\[metric\] gate_step: 'TooHigh'"),
    (lambda text: text + '\n[data_quality]\nstep = "EvaluateRegressor"\n',
     r"\[data_quality\] skip_check_parameter: 'SkipDataQualityCheck' is not a parameter"),
])
def test_a_declaration_that_contradicts_its_compiled_definition_is_refused(tmp_path, edit, message) -> None:
    declaration = load_declaration(pipeline_folder(tmp_path, "forecast", edit))
    definition = json.loads(declaration.compiled_definition.read_text())["definition"]

    with pytest.raises(DeclarationError, match=message):
        check_definition(declaration, definition)


def test_the_examples_agree_with_their_compiled_definitions() -> None:
    for declaration in (CLASSIFICATION, REGRESSION):
        check_definition(declaration, json.loads(declaration.compiled_definition.read_text())["definition"])


def existing(text: str) -> str:
    """Declared as created elsewhere: no [settings] (its parameter defaults are its own)."""
    return replaced("[pipeline]\n", "[pipeline]\nexisting = true\n")(renamed(text)).split("[settings.")[0]


def test_a_pipeline_created_elsewhere_needs_no_compiled_definition(tmp_path: Path) -> None:
    folder = pipeline_folder(tmp_path, "forecast", existing)
    (folder / "compiled.json").unlink()

    valid, errors = declared_pipelines(tmp_path)

    assert errors == {} and [d.existing for d in valid] == [True]


def test_a_pipeline_created_elsewhere_takes_no_settings_for_its_parameter_defaults(tmp_path: Path) -> None:
    folder = pipeline_folder(tmp_path, "forecast", lambda text: existing(text) + '[settings.instance_type]\n'
                                                                'parameter = "InstanceType"\ndefault = "ml.m5.large"\n')
    with pytest.raises(DeclarationError, match=r"\[settings.instance_type\]: a pipeline that exists already"):
        load_declaration(folder)


def test_a_folder_without_its_compiled_definition_is_told_to_compile_it(tmp_path: Path) -> None:
    (pipeline_folder(tmp_path, "forecast", renamed) / "compiled.json").unlink()

    valid, errors = declared_pipelines(tmp_path)

    assert valid == []
    assert "compiled.json is missing: run `make pipelines`" in errors[str(tmp_path / "forecast" / "pipeline.toml")]


def test_two_pipelines_may_not_share_a_dag_id_a_pipeline_name_or_a_registry_group(tmp_path: Path) -> None:
    pipeline_folder(tmp_path, "forecast", renamed)
    pipeline_folder(tmp_path, "same_group", replaced('name = "ml-regression-pipeline"', 'name = "other-pipeline"'))
    pipeline_folder(tmp_path, "same_name", replaced('model_package_group = "regression-models"',
                                                    'model_package_group = "other-models"'))
    pipeline_folder(tmp_path, "same_dag", lambda text: replaced("[pipeline]\n", '[pipeline]\ndag_id = "forecast_training"\n')(
        text.replace('"ml-regression-pipeline"', '"third-pipeline"').replace('"regression-models"', '"third-models"')))

    valid, errors = declared_pipelines(PIPELINES_ROOT, tmp_path)

    assert sorted(d.key for d in valid) == ["classification", "forecast", "regression"]
    regression_file = PIPELINES_ROOT / "regression" / "pipeline.toml"
    assert errors[str(tmp_path / "same_group" / "pipeline.toml")].endswith(
        f"[registry] model_package_group: 'regression-models' is already the model_package_group of {regression_file}")
    assert errors[str(tmp_path / "same_name" / "pipeline.toml")].endswith(
        f"[pipeline] name: 'ml-regression-pipeline' is already the name of {regression_file}")
    assert errors[str(tmp_path / "same_dag" / "pipeline.toml")].endswith(
        f"[pipeline] dag_id: 'forecast_training' is already a DAG id of {tmp_path / 'forecast' / 'pipeline.toml'}")


def test_folders_and_packages_named_in_the_environment_are_pipeline_roots(tmp_path, monkeypatch) -> None:
    pipeline_folder(tmp_path / "folders", "forecast", renamed)
    package = tmp_path / "site" / "team_models"
    pipeline_folder(package, "churn", lambda text: text.replace('"ml-regression-pipeline"', '"churn-pipeline"').replace(
        '"regression-models"', '"churn-models"'))
    (package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.setenv(FOLDERS_ENV, str(tmp_path / "folders"))
    monkeypatch.setenv(PACKAGES_ENV, "team_models, no_such_package")

    valid, errors = declared_pipelines()

    assert sorted(d.dag_id for d in valid) == ["churn_training", "forecast_training"]
    assert list(errors) == [f"{PACKAGES_ENV}=no_such_package"]
    assert re.search(r"'no_such_package' is not an installed package", errors[f"{PACKAGES_ENV}=no_such_package"])


def test_the_readme_example_is_a_whole_declaration(tmp_path: Path) -> None:
    readme = (PIPELINES_ROOT.parents[1] / "README.md").read_text()
    example = readme.split("## Bring your own pipeline", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    folder = tmp_path / "demand_forecast"
    folder.mkdir()
    (folder / "pipeline.toml").write_text(example)

    declaration = load_declaration(folder)

    assert (declaration.name, declaration.dag_id, declaration.settings_variable) == (
        "demand-forecast", "demand_forecast_training", "sagemaker_pipelines_demand_forecast_settings")
    assert (declaration.metric.better, declaration.metric.threshold, declaration.metric.margin) == ("lower", 12.5, 0.0)
    assert declaration.partition_uri("team-ml", PIPELINE_DAY) == "s3://team-ml/sales/ds=2024-03-01/"
