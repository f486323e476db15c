"""Adding a pipeline is adding a folder: its DAGs appear with no other file edited; a bad folder is one
import error naming its file and key, and every other pipeline's DAGs still load."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT
from tests.plugins.test_declarations import pipeline_folder, renamed, replaced
from tests.support.constants import DAG_ID
from tests.support.dag_parsing import project_dags

REGRESSION_DAG_ID = "regression_training"


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A team's own pipelines folder: one new pipeline and five bad declarations."""
    root = tmp_path_factory.mktemp("team-pipelines")
    pipeline_folder(root, "forecast", renamed)

    def another(text: str) -> str:  # a pipeline of its own, so that only the defect under test is refused
        return text.replace('"ml-regression-pipeline"', '"bad-pipeline"').replace('"regression-models"', '"bad-models"')

    pipeline_folder(root, "missing_key", lambda text: replaced('register_step = "RegisterRegressor"\n', "")(another(text)))
    pipeline_folder(root, "unknown_key", lambda text: replaced("[metric]\n", "[metric]\nminimum = 3\n")(another(text)))
    pipeline_folder(root, "wrong_metric_path", lambda text: replaced(
        'path = "regression_metrics.rmse.value"', 'path = "regression_metrics.rsme.value"')(another(text)))
    pipeline_folder(root, "same_group", lambda text: text.replace('"ml-regression-pipeline"', '"group-thief"'))
    pipeline_folder(root, "same_dag_id", lambda text: replaced("[pipeline]\n", f'[pipeline]\ndag_id = "{DAG_ID}"\n')(
        another(text)))
    return root


@pytest.fixture(scope="module")
def report(folders: Path) -> dict:
    return project_dags({"SAGEMAKER_PIPELINES_FOLDERS": str(folders)})


def test_a_pipeline_folder_added_elsewhere_gets_its_dags_with_no_other_file_edited(report: dict) -> None:
    assert report["dag_ids"] == ["classification_data_monitoring", "classification_deploy", "classification_on_new_data", "classification_scoring", "forecast_training",
                                 REGRESSION_DAG_ID, DAG_ID]
    assert report["links"]["forecast_training"] == report["links"][REGRESSION_DAG_ID]
    assert report["deferrable"]["forecast_training"] == report["deferrable"][REGRESSION_DAG_ID]


def test_bad_declarations_are_one_import_error_naming_each_file_and_key(report: dict, folders: Path) -> None:
    assert list(report["import_errors"]) == [str(PROJECT_ROOT / "dags" / "pipeline_declarations.py")]
    error = next(iter(report["import_errors"].values()))
    assert "5 pipeline declaration(s) cannot be built into DAGs" in error
    for folder, key in [("missing_key", "[registry] register_step: missing"),
                        ("unknown_key", "[metric] minimum: unknown key"),
                        ("wrong_metric_path", "[metric] path: 'regression_metrics.rsme.value' is not the report's path"),
                        ("same_group", "[registry] model_package_group: 'regression-models' is already"),
                        ("same_dag_id", f"[pipeline] dag_id: '{DAG_ID}' is already a DAG id of")]:
        assert f"{folders / folder / 'pipeline.toml'}: {key}" in error, (folder, error)


def test_a_tasks_process_builds_only_its_own_pipelines_dags() -> None:
    report = project_dags({"_AIRFLOW_PARSING_CONTEXT_DAG_ID": REGRESSION_DAG_ID})  # as Airflow sets it for a task

    assert report["dag_ids"] == [REGRESSION_DAG_ID] and report["import_errors"] == {}
