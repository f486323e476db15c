"""Every pipeline declaration the DAG family cannot be built from, as one import error in the Airflow UI.

Each line names the declaration's file, the key and what is allowed; sagemaker_pipelines.py builds
the DAGs of every other pipeline meanwhile. No error, no DAG: this file defines none.
"""

from __future__ import annotations

from pathlib import Path

from airflow_sagemaker_pipelines.declarations import DeclarationError
from airflow_sagemaker_pipelines.pipeline_catalog import declared_pipelines

from include import pipelines

_, invalid = declared_pipelines(Path(pipelines.__file__).parent)
if invalid:
    raise DeclarationError(f"{len(invalid)} pipeline declaration(s) cannot be built into DAGs:\n"
                           + "\n".join(invalid.values()))
