"""The DAGs of every declared pipeline: one family per folder of include/pipelines (README "Bring your own pipeline").

Each folder's pipeline.toml declares the pipeline; plugins/airflow_sagemaker_pipelines/dag_family.py
builds its DAGs from it, with the same tasks, rules, notes and notifications for every pipeline.
Folders named by SAGEMAKER_PIPELINES_FOLDERS and packages named by SAGEMAKER_PIPELINES_PACKAGES count too. A
declaration that cannot be built is left out here and reported by pipeline_declarations.py, so the
other pipelines' DAGs still load.
"""

from __future__ import annotations

from pathlib import Path

from airflow.sdk import get_parsing_context
from airflow_sagemaker_pipelines.dag_family import family_dag_ids, pipeline_dags
from airflow_sagemaker_pipelines.pipeline_catalog import declared_pipelines

from include import pipelines

declarations, _invalid = declared_pipelines(Path(pipelines.__file__).parent)
running = get_parsing_context().dag_id  # a task's process needs its own DAG's family only
for declaration in declarations:
    if running is None or running in family_dag_ids(declaration):
        for dag in pipeline_dags(declaration):
            globals()[dag.dag_id] = dag
