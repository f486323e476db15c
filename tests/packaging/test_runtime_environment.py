"""The product in an environment holding only what a deployment installs: requirements.lock and the wheel.

No SageMaker SDK, no moto, no test or local tools. Installed as a package (no plugins folder), Airflow
lists it as a provider, loads its plugin, resolves its links and parses the DAGs, under every deferral
setting; its `airflow dags test` runs the training DAG end to end on the local endpoint. Without the
package, MWAA's bundle (plugins.zip and a DAGs folder) and the plugins/ folder load the same DAGs.
These tests share one virtualenv, first without the package, then with it installed, so they run on
one worker, in order.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from devtools import runtime_environment
from devtools.mwaa_bundle import write_bundle
from tests.conftest import PROJECT_ROOT
from tests.support.constants import DAG_ID
from tests.support.dag_parsing import parse_dags
from tests.support.declarations import CLASSIFICATION, REGRESSION

pytestmark = pytest.mark.xdist_group("runtime-environment")
DEPLOY_DAG_ID = CLASSIFICATION.deploy.dag_id  # type: ignore[union-attr]
SCORING_DAG_ID = CLASSIFICATION.scoring.dag_id  # type: ignore[union-attr]
DEVELOPMENT_ONLY = ("sagemaker", "moto", "pytest", "xgboost", "sklearn", "pandas", "playwright", "devtools", "tests")
LINKS = ["Local endpoint execution", "SageMaker Pipeline Execution"]


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The runtime environment, requirements.lock only (the plugin comes from a plugins folder): its Python."""
    return str(runtime_environment.create(sys.executable, tmp_path_factory.mktemp("runtime") / "venv", None))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return runtime_environment.build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module")
def installed(runtime: str, wheel: Path) -> str:
    """The same environment once the wheel is installed: the tests without the package come first."""
    runtime_environment.install_wheel(runtime, wheel)
    return runtime


def deployment(folder: Path, *, plugins: bool) -> dict[str, str]:
    """dags/ and include/ as the production image lays them out; plugins/ copied in or left empty."""
    for name in ("dags", "include", *(("plugins",) if plugins else ())):
        shutil.copytree(PROJECT_ROOT / name, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "plugins").mkdir(exist_ok=True)
    return airflow_settings(folder / "dags", folder / "plugins", folder)


def airflow_settings(dags: Path, plugins: Path, pythonpath: Path | None) -> dict[str, str]:
    home = dags.parent / "airflow-home"
    return {"AIRFLOW_HOME": str(home), "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(plugins), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__AWS__SESSION_FACTORY": "", "PYTHONPATH": str(pythonpath or "")}


def airflow_json(python: str, environment: dict[str, str], *args: str) -> object:
    completed = subprocess.run([python, "-m", "airflow", *args, "--output", "json"], capture_output=True, text=True,
                               env={**os.environ, **environment}, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout[completed.stdout.index("["):])


def assert_loaded_as_a_deployment_loads_it(report: dict, python: str) -> None:
    assert report["import_errors"] == {} and report["dag_ids"] == sorted([*CLASSIFICATION.dag_ids, *REGRESSION.dag_ids])
    assert report["plugins"] == ["airflow_sagemaker_pipelines"] and report["plugin_errors"] == {}
    for dag_id in (DAG_ID, REGRESSION.dag_id):
        assert report["links"][dag_id] == {"start_execution": LINKS, "wait_for_execution": LINKS}
    assert report["links"][DEPLOY_DAG_ID] == {"deploy_endpoint": ["SageMaker Endpoint"]}
    assert report["links"][SCORING_DAG_ID] == {"score": ["Amazon SageMaker Transform Job Details"]}
    assert report["sdk_modules"] == [] and report["heavy_modules"] == [] and report["clients_created"] == []
    assert Path(python).parents[1] in Path(report["package_file"]).parents or "plugins" in report["package_file"]


def test_the_runtime_environment_has_nothing_of_development(runtime: str) -> None:
    probe = f"import importlib.util; print([m for m in {DEVELOPMENT_ONLY!r} if importlib.util.find_spec(m)])"
    completed = subprocess.run([runtime, "-c", probe], capture_output=True, text=True, cwd="/", env={})
    assert completed.stdout.strip() == "[]", completed.stderr


def test_the_plugins_folder_still_works_without_the_package(runtime: str, tmp_path) -> None:
    report = parse_dags(tmp_path / "dags", deployment(tmp_path, plugins=True), runtime)

    assert_loaded_as_a_deployment_loads_it(report, runtime)
    assert report["package_file"].startswith(str(tmp_path / "plugins"))


def test_the_mwaa_bundle_loads_in_a_runtime_environment_without_the_package(runtime: str, tmp_path) -> None:
    written = write_bundle(tmp_path / "bundle")
    assert {Path("plugins.zip"), Path("requirements.txt"), Path("dags/sagemaker_pipelines.py"),
            Path("dags/pipeline_declarations.py"), Path("dags/include/pipelines/classification/pipeline.toml"),
            Path("dags/include/pipelines/classification/compiled.json"),
            Path("dags/include/pipelines/regression/compiled.json")} <= set(written)
    requirements = (tmp_path / "bundle" / "requirements.txt").read_text()
    assert "apache-airflow-providers-amazon" in requirements and "apache-airflow==" not in requirements
    with zipfile.ZipFile(tmp_path / "bundle" / "plugins.zip") as archive:  # as MWAA unpacks it
        archive.extractall(tmp_path / "plugins")

    # MWAA puts nothing on the path but its DAGs and plugins folders.
    environment = airflow_settings(tmp_path / "bundle" / "dags", tmp_path / "plugins", None)
    report = parse_dags(tmp_path / "bundle" / "dags", environment, runtime)

    assert_loaded_as_a_deployment_loads_it(report, runtime)
    assert report["package_file"].startswith(str(tmp_path / "plugins"))


def test_the_wheel_carries_the_package_the_provider_entry_point_and_the_runtime_dependencies(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        info = next(name for name in names if name.endswith(".dist-info/METADATA"))
        metadata = archive.read(info).decode()
        entry_points = archive.read(info.replace("METADATA", "entry_points.txt")).decode()
    assert {name.split("/")[0] for name in names} == {"airflow_sagemaker_pipelines", info.split("/")[0]}
    assert "[apache_airflow_provider]\nprovider_info = airflow_sagemaker_pipelines.get_provider_info:get_provider_info" \
        in entry_points
    assert "[airflow.plugins]\nairflow_sagemaker_pipelines = airflow_sagemaker_pipelines.plugin:SageMakerPipelinesPlugin" \
        in entry_points
    assert "Requires-Dist: apache-airflow<3.4,>=3.3.2" in metadata
    assert "Requires-Dist: apache-airflow-providers-amazon[aiobotocore]<10,>=9.39.0" in metadata
    assert "License-Expression: Apache-2.0" in metadata


# What Airflow made of the installed package: its providers' extra links and its plugins (with their listeners).
REGISTRATION_PROBE = """
import json
from airflow import plugins_manager
from airflow.providers_manager import ProvidersManager
plugins, errors = plugins_manager._get_plugins()
print(json.dumps({"links": sorted(ProvidersManager().extra_links_class_names), "plugin_errors": errors,
                  "plugins": [[plugin.name, [listener.__name__ for listener in plugin.listeners]] for plugin in plugins]}))
"""


def test_airflow_lists_the_installed_package_as_a_provider_with_its_plugin_and_links(installed: str, tmp_path) -> None:
    environment = airflow_settings(tmp_path / "dags", tmp_path / "plugins", None)
    (tmp_path / "plugins").mkdir()
    providers = {item["package_name"]: item for item in airflow_json(installed, environment, "providers", "list")}
    assert providers["airflow-sagemaker-pipelines"]["version"] == "0.5.0"
    for lazy in ("True", "False"):  # the provider's plugins load only when not lazy: the entry point's always
        completed = subprocess.run([installed, "-c", REGISTRATION_PROBE], capture_output=True, text=True, timeout=300,
                                   env={**os.environ, **environment, "AIRFLOW__CORE__LAZY_DISCOVER_PROVIDERS": lazy})
        assert completed.returncode == 0, completed.stderr[-3000:]
        registered = json.loads(completed.stdout.strip().splitlines()[-1])
        assert registered["plugins"] == [["airflow_sagemaker_pipelines", ["airflow_sagemaker_pipelines.run_notes"]]]
        assert registered["plugin_errors"] == {}
        assert {"airflow_sagemaker_pipelines.links.SageMakerPipelineExecutionLink",
                "airflow_sagemaker_pipelines.links.LocalEndpointExecutionLink"} <= set(registered["links"])


@pytest.mark.parametrize("default_deferrable", ["True", "False"])  # False is the default
def test_the_dags_load_from_the_installed_package_under_every_deferral_setting(
    installed: str, tmp_path, default_deferrable: str
) -> None:
    environment = {**deployment(tmp_path, plugins=False), "AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE": default_deferrable}

    report = parse_dags(tmp_path / "dags", environment, installed)

    assert_loaded_as_a_deployment_loads_it(report, installed)
    assert "site-packages" in report["package_file"]
    tasks = report["deferrable"][DAG_ID]
    assert (tasks["start_execution"], tasks["wait_for_execution"]) == (False, True)


def test_the_training_dag_runs_end_to_end_with_the_runtime_environments_airflow(installed: str) -> None:
    completed = subprocess.run([sys.executable, "-m", "devtools.local_airflow.run_training_dag", "--runtime", installed],
                               capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=600)
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-2000:]
    assert "empty (the package is installed in that environment)" in completed.stdout
    assert completed.stdout.rstrip().splitlines()[-1].startswith("APPROVED: AUC ")
