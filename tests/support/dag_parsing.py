"""The DAG folder as a DAG processor parses it, in a fresh interpreter of any environment: what it found, imported and made."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import PROJECT_ROOT

# Runs in the interpreter under test: what a DAG processor pays and imports when it parses the folder.
PARSE_PROBE = textwrap.dedent("""
    import json, sys
    import boto3.session, botocore.session
    created = []
    real_client = botocore.session.Session.create_client
    def counting_client(self, *args, **kwargs):
        created.append(args[0] if args else kwargs.get("service_name"))
        return real_client(self, *args, **kwargs)
    botocore.session.Session.create_client = counting_client
    from airflow.dag_processing.dagbag import DagBag
    bag = DagBag(dag_folder=sys.argv[1])
    from airflow import plugins_manager
    plugins, plugin_errors = plugins_manager._get_plugins()
    from airflow.serialization.serialized_objects import DagSerialization
    links = {}
    for dag_id, dag in bag.dags.items():
        restored = DagSerialization.from_dict(DagSerialization.to_dict(dag))
        links[dag_id] = {task.task_id: sorted(task.operator_extra_link_dict) for task in restored.tasks
                         if task.operator_extra_link_dict}
    package = sys.modules.get("airflow_sagemaker_pipelines")
    print(json.dumps({
        "dag_ids": sorted(bag.dag_ids),
        "import_errors": {str(k): str(v) for k, v in bag.import_errors.items()},
        "sdk_modules": sorted(m for m in sys.modules if m == "sagemaker" or m.startswith("sagemaker.")),
        "heavy_modules": sorted(m for m in ("moto", "pandas", "xgboost", "sklearn", "devtools.local_sagemaker")
                                if m in sys.modules),
        "clients_created": created,
        "deferrable": {dag_id: {task.task_id: bool(getattr(task, "deferrable", False)) for task in dag.tasks}
                       for dag_id, dag in bag.dags.items()},
        "deadlines": {dag_id: [alert.name for alert in dag.deadline or []] for dag_id, dag in bag.dags.items()},
        "plugins": sorted(plugin.name for plugin in plugins),
        "plugin_errors": plugin_errors,
        "links": links,
        "package_file": getattr(package, "__file__", None),
    }))
""")


def parse_dags(dags_folder: Path, environment: dict[str, str], python: str = sys.executable,
               cwd: Path | None = None) -> dict:
    """The report of PARSE_PROBE; `cwd` (default: the DAG folder) is on the interpreter's path."""
    completed = subprocess.run([python, "-c", PARSE_PROBE, str(dags_folder)], capture_output=True, text=True,
                               cwd=cwd or dags_folder, env={**os.environ, **environment}, timeout=300)
    assert completed.returncode == 0, completed.stderr[-4000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def project_dags(environment: dict[str, str]) -> dict:
    """This repository's dags/ as the test processes' environment parses it (plugins/ as the plugins folder)."""
    return parse_dags(PROJECT_ROOT / "dags", environment, cwd=PROJECT_ROOT)
