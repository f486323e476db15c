"""Values several test packages use, spelled once."""

from __future__ import annotations

from datetime import date

from devtools.local_airflow.environment import REGION, ROLE_ARN

DAG_ID = "sagemaker_training_pipeline"
PIPELINE_BUCKET = "ml-pipeline-tests"
PIPELINE_DAY = date(2024, 3, 1)  # the seeded day the pipeline tests train on

__all__ = ["DAG_ID", "PIPELINE_BUCKET", "PIPELINE_DAY", "REGION", "ROLE_ARN"]
