"""Benchmark DAGs: N pipeline executions waited on at once, deferred (ours) or in reschedule mode (the provider's).

Used by tests/perf/test_triggerer_scale.py on the native stack; the ARNs come in the run's conf.
"""

from __future__ import annotations

import pendulum
from airflow.providers.amazon.aws.sensors.sagemaker import SageMakerPipelineSensor
from airflow.sdk import DAG, Param, task
from airflow_sagemaker_pipelines.sensors.pipeline_execution import PipelineExecutionSensor

POLL_SECONDS = 30
DEFAULTS = {"retries": 0, "owner": "benchmark"}


@task
def executions_to_wait_for(params: dict | None = None) -> list[str]:
    return list((params or {})["arns"])


with DAG(dag_id="benchmark_deferred_waits", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
         max_active_tasks=1000, default_args=DEFAULTS, params={"arns": Param([], type="array")}):
    PipelineExecutionSensor.partial(task_id="wait", poll_interval=POLL_SECONDS, timeout=3 * 3600).expand(
        pipeline_exec_arn=executions_to_wait_for())

with DAG(dag_id="benchmark_reschedule_waits", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
         max_active_tasks=1000, default_args=DEFAULTS, params={"arns": Param([], type="array")}):
    SageMakerPipelineSensor.partial(task_id="wait", mode="reschedule", poke_interval=POLL_SECONDS,
                                    timeout=3 * 3600).expand(pipeline_exec_arn=executions_to_wait_for())
