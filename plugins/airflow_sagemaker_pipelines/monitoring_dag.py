"""The monitoring DAG of a declared pipeline: each day, what the deployed endpoint was sent, checked against the
data the model it serves learned from (Model Monitor's data-quality analyzer)."""

from __future__ import annotations

from airflow.sdk import DAG, Param

from .dag_family import ANY_DAY, DEFAULT_ARGS
from .declarations import PipelineDeclaration

MONITORING_DOC = """
### Watch what {name}'s endpoint is sent, one data day per run

One run per **data day** at `{cron}` (UTC): the run for day D checks the requests the deployed
endpoint captured on D (the deploy DAG's data capture: the settings' `data_capture_percent` and
`data_capture_prefix`) against the data-quality baseline of the model it serves, the one the
training pipeline's `{step}` registered with the package.

1. **choose_baseline** finds the endpoint, the model package it serves and its baseline
   (DriftCheckBaselines.ModelDataQuality), and names everything after the day and the model. With
   nothing to check (capture off, no endpoint, a model without a baseline) it says why, and the
   run reports NOT CHECKED.
2. **prepare_requests** reads the day's capture files and writes their request rows as one CSV
   with the model's columns ({features}), and the baseline restricted to them (no request carries
   the label). A day without requests is skipped.
3. **check_data** runs Model Monitor's analyzer (a processing job named after the day and the
   model: a retry or a clear attaches to it); the wait is deferred.
4. **notify**: DATA OK, DATA DRIFT (each violated feature with its baseline and current values),
   NOT CHECKED (and why) or FAILED, on the run's note and to people.
"""


def monitoring_dag(declaration: PipelineDeclaration) -> DAG:
    """The pipeline's monitoring DAG: each day's captured requests checked against the served model's baseline."""
    from .operators.monitoring_check import DataQualityJobOperator
    from .operators.monitoring_input import PrepareCapturedDataOperator
    from .operators.monitoring_plan import ChooseMonitoringOperator
    from .operators.notify_monitoring import NotifyMonitoringOperator
    from .run_failures import record_failure
    from .timetables import DataDayTimetable

    quality, scoring = declaration.data_quality, declaration.scoring
    assert quality is not None and quality.monitoring_dag_id and scoring is not None
    with DAG(
        dag_id=quality.monitoring_dag_id,
        description=f"Check each day's requests to {declaration.name}'s endpoint against the served model's "
                    "data-quality baseline",
        doc_md=MONITORING_DOC.format(name=declaration.name, cron=quality.monitoring_cron, step=quality.step,
                                     features=", ".join(scoring.features)),
        schedule=DataDayTimetable(quality.monitoring_cron, timezone="UTC"),
        start_date=ANY_DAY,
        catchup=False,
        max_active_runs=3,
        tags=["sagemaker", "mlops", "monitoring", *declaration.tags],
        render_template_as_native_obj=True,
        default_args={**DEFAULT_ARGS, "on_failure_callback": record_failure},
        params={"notify": Param(True, type="boolean", title="Notify", description="Send the monitoring report.")},
    ) as dag:
        plan = ChooseMonitoringOperator(task_id="choose_baseline", declaration=declaration,
                                        settings_variable=declaration.settings_variable, retries=1)
        captured = PrepareCapturedDataOperator(task_id="prepare_requests", plan=plan.output)
        check = DataQualityJobOperator(
            task_id="check_data", plan=plan.output, captured=captured.output, retries=1,
            poll_seconds="{{ var.value.get('sagemaker_pipelines_poll_seconds', 30) }}")
        notify = NotifyMonitoringOperator(task_id="notify", plan=plan.output, captured=captured.output,
                                          check=check.output, steps=[plan.task_id, captured.task_id, check.task_id])
        plan >> captured >> check >> notify
        plan >> notify
    return dag
