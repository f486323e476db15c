"""The runtime on every Python Airflow 3.3 supports beside 3.11 (which `make test` covers): 3.12 and 3.13.

requirements.lock installs there (the SageMaker SDK could not: README "Troubleshooting"), with the
wheel; the DAGs load from it and the training DAG runs end to end with that Airflow. Slow (each
Python downloads its own wheels once), so not part of `make test`: `make test-pythons`, which
.ci/run runs.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from devtools import runtime_environment
from tests.conftest import PROJECT_ROOT
from tests.packaging.test_runtime_environment import assert_loaded_as_a_deployment_loads_it, deployment
from tests.support.dag_parsing import parse_dags

pytestmark = [pytest.mark.pythons, pytest.mark.xdist_group("runtime-environment"), pytest.mark.timeout(1800)]


@pytest.mark.parametrize("version", ["3.12", "3.13"])
def test_the_runtime_installs_loads_the_dags_and_runs_the_training_dag(version: str, tmp_path) -> None:
    try:
        python = runtime_environment.find_python(version)
    except FileNotFoundError as error:
        pytest.fail(f"{error}: .ci/run needs Python {version} (pyenv has it on these machines)")
    wheel = runtime_environment.build_wheel(tmp_path / "wheel")
    interpreter = str(runtime_environment.create(python, tmp_path / "venv", wheel))
    assert subprocess.run([interpreter, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True,
                          text=True).stdout.strip() == str(tuple(int(part) for part in version.split(".")))

    report = parse_dags(tmp_path / "deployment" / "dags", deployment(tmp_path / "deployment", plugins=False), interpreter)
    assert_loaded_as_a_deployment_loads_it(report, interpreter)

    run = subprocess.run([sys.executable, "-m", "devtools.local_airflow.run_training_dag", "--runtime", interpreter],
                         capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=900)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert run.stdout.rstrip().splitlines()[-1].startswith("APPROVED: AUC ")
