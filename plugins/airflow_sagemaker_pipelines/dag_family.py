"""The DAGs of a declared pipeline, built from its declaration alone: the same tasks and rules for every pipeline.

`pipeline_dags` builds every DAG of a pipeline's family. `training_dag` is its training DAG: one run per data day (or per trigger, for a pipeline
that is not partitioned), with the Params form the declaration implies. `training_tasks` builds its
task sequence inside any DAG, so every DAG that trains (scheduled, or started by an event) runs the
same tasks. What a run does is explained in `TRAINING_DOC`, filled in with the pipeline's names.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from airflow.providers.amazon.aws.utils.sagemaker import ApprovalStatus
from airflow.sdk import DAG, Asset, AsyncCallback, DeadlineAlert, Param, XComArg

from .declarations import PipelineDeclaration
from .notifications import FailureNotification
from .operators.data_partition import DataPartitionOperator
from .operators.evaluation import ReadEvaluationMetricsOperator
from .operators.model_approval import ModelPackageApprovalOperator
from .operators.model_decision import DECISION_KEY, ModelDecisionBranchOperator
from .operators.model_review import REVIEW_KEY, ModelReviewOperator
from .operators.notify_run import NotifyRunOperator
from .operators.start_pipeline import StartPipelineExecutionOperator
from .operators.upsert_pipeline import UpsertPipelineOperator
from .params import as_fraction
from .payloads import MetricSpec
from .sensors.pipeline_execution import PipelineExecutionSensor

PIPELINE_TIMEOUT = timedelta(hours=6)
SAGEMAKER_POOL = "sagemaker_pipelines"
REGISTRY_POOL = "sagemaker_model_registry"  # one slot: decisions on the registry, one at a time
# Airflow creates no task for a run before the DAG's start date: a run for such a day would be an empty
# green success. So every DAG starts long before its data, and choose_partition says why it refuses a day.
ANY_DAY = datetime(2000, 1, 1, tzinfo=UTC)
LATE_RUN_ALERTS_SWITCH = "SAGEMAKER_PIPELINES_LATE_RUN_ALERTS"  # env: false turns the training DAGs' deadlines off
# The task each decision leads to; a re-run of an approved day (unchanged) confirms the approval.
# An approval goes through review_model, which asks a person first in the form's manual mode.
BRANCHES = {"approved": "review_model", "unchanged": "review_model", "rejected": "reject_model",
            "not_promoted": "keep_unpromoted"}
APPROVALS = {"approved": "approve_model", "unchanged": "approve_model", "rejected": "reject_model",
             "not_promoted": "keep_unpromoted"}
DEFAULT_ARGS = {
    "owner": "ml-platform",
    "retries": 2,
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": True,
    "execution_timeout": timedelta(minutes=30),
}

TRAINING_DOC = """
### {description}

SageMaker pipeline `{name}` ({origin}), declared in `{file}`.

{runs}

1. **{first_task}** {first_task_doc}
2. **choose_partition** picks the run's data{partition_doc}, waits for it to hold data (the form's
   "Wait for the data"), and fingerprints its objects.{quality_doc}
3. **start_execution** starts one execution for the run. Its ClientRequestToken and display name
   derive from the DAG run, so a retry or a clear finds the same execution. Clearing a run whose
   execution failed or was stopped resumes it (the failed steps run again), or starts the run's
   next execution when the pipeline or the data changed since.
4. **wait_for_execution** waits in the triggerer and logs every step as it moves; a failed or
   stopped execution fails it with SageMaker's reason; at the timeout, or when it is marked
   failed, it stops the execution. The pipeline's own quality gate failing is a decision.
5. **read_metrics** reads `{report}` of step `{step}` and the package `{register_step}` registered.
6. **decide_model** compares the candidate with the approved model (the champion) of the group
   `{group}`, on {metric_name} ({better} is better): **rejected** when it is on the wrong side of
   the threshold, when the pipeline's gate said no, or when it is worse than the champion by more
   than the margin; **not promoted** when it learned from an older day than the champion (a
   backfill) or from the same data and pipeline; **unchanged** when it is the approved model
   already; else **approved**. An approval goes through **review_model**: at once in the form's
   `approval_mode` auto (a model whose data violates the champion's data-quality baseline is not
   promoted: a person approves it, in manual mode); in manual, a person answers in the Airflow UI (Required actions): Approve,
   or Reject (no answer within `approval_timeout_hours` rejects), with a comment for the package.
   **approve_model** / **reject_model** / **keep_unpromoted** set the
   package's status with the reason and this run's id; approving checks the champion again first.
   A model trained on an older day than the approved one is never approved: backfills fill in the
   registry's history (each day's package, metrics and decision), they never demote the live model.
7. **notify** sends the report (SNS, email and Slack where configured); a task that fails for good
   reports too, with its reason.

The run's note starts with its outcome (APPROVED / REJECTED / GATE FAILED / NOT PROMOTED /
UNCHANGED, or FAILED at a task with the reason), its data day, {metric_name} and the package.
Settings: the JSON Variable `{settings_variable}`. Every AWS call goes through `aws_default`.
"""

_DAILY_RUNS = """One run per **data day**, which starts the run id (`scheduled__data-2024-03-01__…`): the run for
day D reads `s3://<bucket>/{prefix}/ds=D/` once D is over. A run triggered for a past day trains
on that day; one triggered for today (the form's default), on the last complete day. A day before
{first_day} (the first day of data), or not over yet, is refused with the reason. A backfill
starts one execution per day."""
_QUALITY_DOC = """ **choose_baseline** finds the champion's data-quality
   baseline: the pipeline's `{step}` checks the run's data against it (drift, missing columns, type
   changes), and the run's model keeps its own data's baseline; the report lists each violated
   feature with its baseline and current values."""
_UNPARTITIONED_RUNS = """Runs only when triggered, each on the whole of `s3://<bucket>/{prefix}/` (its data is not partitioned by day)."""


class MetricForm(NamedTuple):
    """The Params of the decision's metric: their names and schemas, as the declaration implies."""

    threshold_param: str
    margin_param: str
    params: dict[str, Param]
    fraction: bool  # the form takes a percentage too, read as a fraction

    @classmethod
    def of(cls, declaration: PipelineDeclaration) -> MetricForm:
        rule = declaration.metric
        name = rule.name.upper()
        higher = rule.better == "higher"
        threshold_param = f"{'min' if higher else 'max'}_{rule.name}_threshold"
        if rule.fraction:
            bounds = {"minimum": 0, "maximum": 100}
            units = " a fraction such as 0.75, or a percentage such as 75 (read as 0.75)."
        else:
            bounds = {"minimum": rule.range[0], "maximum": rule.range[1]} if rule.range else {}
            units = f" a {name} value such as {rule.threshold:g}."
        worst = "lowest" if higher else "highest"
        params = {
            threshold_param: Param(rule.threshold, type="number", title=f"{'Minimum' if higher else 'Maximum'} {name}",
                                   description=f"The {worst} test {name} a model may have to be approved:{units}",
                                   **bounds),
            "champion_margin": Param(
                rule.margin, type="number", minimum=0, **({"maximum": 100} if rule.fraction else {}),
                title="Champion margin",
                description=f"How much worse than the approved model's {name} the new model's may be and still "
                            f"replace it, in {name}" + (" (or as a percentage)." if rule.fraction else ".")),
        }
        return cls(threshold_param, "champion_margin", params, rule.fraction)

    def value(self, param: str) -> str:
        """The template a task reads the Param's value with: a percentage read as a fraction where it may be one."""
        return f"{{{{ as_fraction(params.{param}, '{param}') }}}}" if self.fraction else f"{{{{ params.{param} }}}}"


def _param_key(name: str) -> str:
    """TrainingInstanceType -> training_instance_type: the form's key of a pipeline parameter."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).replace("-", "_").lower()


def training_params(declaration: PipelineDeclaration) -> dict[str, Param]:
    form = MetricForm.of(declaration)
    params: dict[str, Param] = dict(form.params)
    params["wait_for_data_minutes"] = Param(
        360, type="integer", minimum=0, maximum=1440, title="Wait for the data (minutes)",
        description="How long the run waits for its data to land before it fails (0: fail at once when it is empty).")
    for parameter in declaration.form:
        params[_param_key(parameter.name)] = Param(
            parameter.default, type="string", title=parameter.title,
            description=parameter.description or f"The pipeline parameter {parameter.name}.",
            **({"pattern": parameter.pattern} if parameter.pattern else {}))
    day = ("the run's data day, s3://<bucket>/" + declaration.data_prefix + "/ds=<day>/"
           if declaration.partitioning == "daily" else f"s3://<bucket>/{declaration.data_prefix}/")
    params["input_data_url"] = Param(
        None, type=["null", "string"], pattern=r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/.*)?$",
        title="Input data URL", description=f"Leave empty to train on {day}; else an s3:// prefix such as "
                                            f"s3://my-bucket/{declaration.data_prefix}/ds=2024-03-01/.")
    if declaration.approval_status_parameter:
        params["model_approval_status"] = Param(
            ApprovalStatus.PENDING_MANUAL_APPROVAL.value, type="string", enum=[s.value for s in ApprovalStatus],
            title="Registration status", description="The status the pipeline registers the model with.")
    params["approval_mode"] = Param(
        "auto", type="string", enum=["auto", "manual"], title="Approval",
        description="auto: the rules approve. manual: a model the rules approve waits for a person's Approve or "
                    "Reject in the Airflow UI (the run's Required actions); a model they reject is never offered.")
    params["approval_timeout_hours"] = Param(
        24, type="number", exclusiveMinimum=0, maximum=720, title="Approval timeout (hours)",
        description="In manual mode: how long a person has to answer; no answer rejects the model.")
    params["notify"] = Param(True, type="boolean", title="Notify", description="Send the run report (SNS, email, Slack).")
    return params


def training_tasks(declaration: PipelineDeclaration, new_partition: XComArg | None = None) -> dict[str, Any]:
    """The training sequence, in the DAG being defined: upsert (or find) the pipeline, choose the data,
    start, wait, read, decide, approve or reject, notify. Returns the tasks by task id.

    `new_partition` (a NewPartition) makes it a new-data run's: its day, and the execution of the day's
    scheduled training run."""
    form = MetricForm.of(declaration)
    rule = declaration.metric
    metric: MetricSpec = {"name": rule.name, "better": rule.better,
                          "range": list(rule.range) if rule.range else None}
    champion_check = {"metric_paths": declaration.metric_paths, "provenance_keys": declaration.provenance}
    pipeline = UpsertPipelineOperator(
        task_id="find_pipeline" if declaration.existing else "upsert_pipeline",
        doc_md=("Find the SageMaker pipeline, created elsewhere (never upserted here)." if declaration.existing
                else "Create or update the SageMaker pipeline from its compiled definition (no call when unchanged)."),
        declaration=declaration,
        settings_variable=declaration.settings_variable,
    )
    partition = DataPartitionOperator(
        task_id="choose_partition",
        doc_md="The run's data: its S3 prefix, waited for until it holds data, and a fingerprint of its objects.",
        bucket=pipeline.output["bucket"],
        partition_uri=declaration.partition_uri,
        partitioned=declaration.partitioning == "daily",
        input_data_url="{{ params.input_data_url }}",
        first_day=declaration.first_day,
        wait_for_data_minutes="{{ params.wait_for_data_minutes }}",
        data_day=new_partition["data_day"] if new_partition is not None else None,
        check_deadline=True,
    )
    parameters: dict[str, Any] = {declaration.data_parameter: partition.output["input_data_url"]}
    if rule.parameter:
        parameters[rule.parameter] = form.value(form.threshold_param)
    if declaration.approval_status_parameter:
        parameters[declaration.approval_status_parameter] = "{{ params.model_approval_status }}"
    for parameter in declaration.form:
        parameters[parameter.name] = f"{{{{ params.{_param_key(parameter.name)} }}}}"
    recorded = {"data_day": partition.output["data_day"], "pipeline_version": pipeline.output["pipeline_version"],
                "data_fingerprint": partition.output["data_fingerprint"]}
    parameters.update({name: recorded[field] for field, name in declaration.provenance.items()})
    quality = declaration.data_quality
    baseline = None
    if quality is not None:
        from .operators.data_quality_baseline import DataQualityBaselineOperator

        baseline = DataQualityBaselineOperator(
            task_id="choose_baseline",
            doc_md="The champion's data-quality baseline, which the pipeline checks the run's data against.",
            model_package_group=pipeline.output["model_package_group"],
        )
        parameters.update({
            quality.skip_check_parameter: baseline.output["skip_check"],
            quality.baseline_statistics_parameter: baseline.output["statistics"],
            quality.baseline_constraints_parameter: baseline.output["constraints"],
            # Every model keeps the baseline of the data it learned from; a violation is the DAG's decision.
            quality.register_baseline_parameter: True,
            quality.fail_on_violation_parameter: False,
        })
    start_execution = StartPipelineExecutionOperator(
        task_id="start_execution",
        doc_md="Start this run's execution, idempotently: a retry or clear gets the same execution back.",
        pool=SAGEMAKER_POOL,
        pipeline_name=pipeline.output["pipeline_name"],
        data_day=partition.output["data_day"],
        pipeline_params=parameters,
        execution_of=new_partition["execution_of"] if new_partition is not None else None,
    )
    wait_for_execution = PipelineExecutionSensor(
        task_id="wait_for_execution",
        doc_md="Wait in the triggerer; the log shows each step's status changes and any failure's reason.",
        pool=SAGEMAKER_POOL,
        pipeline_exec_arn=start_execution.output,
        poll_interval="{{ var.value.get('sagemaker_pipelines_poll_seconds', 30) }}",
        quality_gate_steps=[rule.gate_step] if rule.gate_step else [],
        timeout=PIPELINE_TIMEOUT.total_seconds(),
        execution_timeout=PIPELINE_TIMEOUT + timedelta(minutes=15),
        # Retried only when the API stayed unreachable beyond the outage budget: the retry
        # re-attaches to the same execution. How an execution ended is final (clear to resume).
        retries=2,
    )
    read_metrics = ReadEvaluationMetricsOperator(
        task_id="read_metrics",
        doc_md="Read the evaluation report of the evaluation step, the registered package and the champion.",
        execution=wait_for_execution.output,
        evaluation_step=declaration.evaluation_step,
        evaluation_output=declaration.evaluation_output,
        report_file=declaration.evaluation_report,
        register_step=declaration.register_step,
        metric=metric,
        count_paths=declaration.counts,
        data_quality_step=quality.step if quality else None,
        baseline=baseline.output if baseline is not None else None,
        **champion_check,
    )
    decide_model = ModelDecisionBranchOperator(
        task_id="decide_model",
        doc_md="Compare with the group's approved model: approve, reject, keep without promoting, or unchanged.",
        pool=REGISTRY_POOL,
        evaluation=read_metrics.output,
        model_package_group=pipeline.output["model_package_group"],
        metric=metric,
        threshold=form.value(form.threshold_param),
        margin=form.value(form.margin_param),
        branches=BRANCHES,
        approval_mode="{{ params.approval_mode }}",
        **champion_check,
    )
    decision = XComArg(decide_model, key=DECISION_KEY)
    review = ModelReviewOperator(
        task_id="review_model",
        doc_md="The rules approve the model: approve it (auto mode), or ask a person in the Airflow UI first (manual).",
        decision=decision,
        evaluation=read_metrics.output,
        approval_mode="{{ params.approval_mode }}",
        timeout_hours="{{ params.approval_timeout_hours }}",
        approve_task="approve_model",
        metric=rule.name,
        console_link=XComArg(start_execution, key=StartPipelineExecutionOperator.console_link_key),
        retries=0,  # a retry would ask the person again
    )
    announced = [model_package_asset(declaration)] if declaration.deploy else []
    approvals = {
        task_id: ModelPackageApprovalOperator(
            task_id=task_id,
            doc_md=f"Set the registered model package to {status.value}, with the decision's reason.",
            pool=REGISTRY_POOL,
            model_package_arn=read_metrics.output["model_package_arn"],
            # An approval's decision is the review's (it names the reviewer, if one answered).
            decision=XComArg(review, key=DECISION_KEY) if status == ApprovalStatus.APPROVED else decision,
            approval_status=status.value,
            # The approval is the deploy DAG's schedule: an asset event carrying the package.
            outlets=announced if status == ApprovalStatus.APPROVED else [],
            **champion_check,
        )
        for task_id, status in (("approve_model", ApprovalStatus.APPROVED), ("reject_model", ApprovalStatus.REJECTED),
                                ("keep_unpromoted", ApprovalStatus.PENDING_MANUAL_APPROVAL))
    }
    notify = NotifyRunOperator(
        task_id="notify",
        doc_md="Send the run report: decision, metrics, model package, execution ARN and console link.",
        trigger_rule="none_failed_min_one_success",
        evaluation=read_metrics.output,
        decision=decision,
        approvals={outcome: approvals[task_id].output for outcome, task_id in APPROVALS.items()},
        review=XComArg(review, key=REVIEW_KEY),
        console_link=XComArg(start_execution, key=StartPipelineExecutionOperator.console_link_key),
        data_day=partition.output["data_day"],
        metric=rule.name,
    )
    pipeline >> partition >> start_execution >> wait_for_execution >> read_metrics >> decide_model
    if baseline is not None:
        partition >> baseline >> start_execution
    decide_model >> [review, approvals["reject_model"], approvals["keep_unpromoted"]]
    review >> approvals["approve_model"]
    [review, *approvals.values()] >> notify
    tasks = [pipeline, partition, *([baseline] if baseline is not None else []), start_execution, wait_for_execution,
             read_metrics, decide_model, review, *approvals.values(), notify]
    return {task.task_id: task for task in tasks}


def training_dag(declaration: PipelineDeclaration) -> DAG:
    """The pipeline's training DAG: on its data days (or when triggered), with its form and doc."""
    from .timetables import DataDayTimetable

    daily = declaration.partitioning == "daily"
    runs = (_DAILY_RUNS.format(prefix=declaration.data_prefix, first_day=declaration.first_day) if daily
            else _UNPARTITIONED_RUNS.format(prefix=declaration.data_prefix))
    doc = TRAINING_DOC.format(
        description=declaration.description, name=declaration.name, file=declaration.file.name,
        origin="created elsewhere, never upserted here" if declaration.existing else "compiled from its SDK source",
        runs=runs, first_task="find_pipeline" if declaration.existing else "upsert_pipeline",
        first_task_doc=("reads the pipeline SageMaker has; it is never changed here." if declaration.existing else
                        "fills the pipeline's compiled definition in with the deployment's settings and creates or "
                        "updates the pipeline (no call when unchanged)."),
        partition_doc=" day" if daily else "", report=declaration.evaluation_report, step=declaration.evaluation_step,
        register_step=declaration.register_step, group=declaration.model_package_group,
        metric_name=declaration.metric.name.upper(), better=declaration.metric.better,
        settings_variable=declaration.settings_variable,
        quality_doc="" if declaration.data_quality is None else _QUALITY_DOC.format(
            step=declaration.data_quality.step))
    with DAG(
        dag_id=declaration.dag_id,
        description=declaration.description + (" (one run per data day; the run id starts with it)" if daily else ""),
        doc_md=doc,
        schedule=DataDayTimetable(declaration.cron, timezone="UTC") if daily else None,
        start_date=ANY_DAY,
        catchup=False,
        max_active_runs=3,
        tags=["sagemaker", "mlops", "training", *declaration.tags],
        render_template_as_native_obj=True,  # numbers stay numbers, None stays None
        user_defined_macros={"as_fraction": as_fraction},  # 0.75 or 75 (%) -> 0.75
        default_args={**DEFAULT_ARGS, "on_failure_callback": FailureNotification()},
        params=training_params(declaration),
        deadline=late_run_deadline(declaration) if late_run_alerts_on() else None,
    ) as dag:
        training_tasks(declaration)
    return dag


def late_run_alerts_on() -> bool:
    """Whether training DAGs carry their late-run deadline: yes, unless LATE_RUN_ALERTS_SWITCH says false.

    Airflow 3.3.2's `airflow dags test` (dag.test) fails every successful run of a DAG with a deadline
    as it ends; a process that runs DAGs that way turns the deadlines off with this switch.
    """
    value = os.environ.get(LATE_RUN_ALERTS_SWITCH, "true").strip().lower()
    if value not in ("true", "false"):
        raise ValueError(f"{LATE_RUN_ALERTS_SWITCH}={value!r} is invalid: expected true (the default) or false")
    return value == "true"


def late_run_deadline(declaration: PipelineDeclaration) -> DeadlineAlert:
    """A LATE alert when a run is still going the deadline Variable's hours after it was queued (deadline_alerts.py)."""
    from .deadline_alerts import RunQueuedPlusDeadlineHours, alert_late_run

    return DeadlineAlert(reference=RunQueuedPlusDeadlineHours(), interval=timedelta(0), name="late run",
                         callback=AsyncCallback(alert_late_run, kwargs={
                             "pipeline_name": declaration.name, "settings_variable": declaration.settings_variable}))


NEW_DATA_DOC = """
### Train {name} as soon as a day's data lands

The bucket notifies the SQS queue `{queue}` of every object created under `{prefix}/` (README,
"Train when the data lands"); this DAG's asset watcher reads the queue in the triggerer and starts a
run when objects of a partition `{prefix}/ds=YYYY-MM-DD/` arrive. Messages that are not such
notifications (S3's test event, other keys, anything not JSON) are logged and dropped.

1. **read_new_partition** picks the newest day the run's notifications name (the others are logged:
   their scheduled runs train them), or the form's `data_day` for a run triggered by hand.
2. Then the tasks of `{training_dag_id}`, on that day. The execution belongs to `{training_dag_id}`'s
   scheduled run for the day: that run, this one and any repeated notification of the day all get
   the same SageMaker execution back; none starts a second one.
"""


def new_data_dag(declaration: PipelineDeclaration) -> DAG:
    """The pipeline's new-data DAG: the training tasks, on each partition as soon as S3 announces it."""
    from .operators.new_partition import ReadNewPartitionOperator

    assert declaration.events is not None and declaration.cron is not None
    with DAG(
        dag_id=declaration.events.dag_id,
        description=f"Train {declaration.name} as soon as a day's data lands in S3 (notifications on "
                    f"SQS {declaration.events.queue})",
        doc_md=NEW_DATA_DOC.format(name=declaration.name, queue=declaration.events.queue,
                                   prefix=declaration.data_prefix, training_dag_id=declaration.dag_id),
        schedule=[new_data_asset(declaration)],
        start_date=ANY_DAY,
        catchup=False,
        max_active_runs=3,
        tags=["sagemaker", "mlops", "training", "events", *declaration.tags],
        render_template_as_native_obj=True,
        user_defined_macros={"as_fraction": as_fraction},
        default_args={**DEFAULT_ARGS, "on_failure_callback": FailureNotification()},
        params={"data_day": Param(None, type=["null", "string"], format="date", title="Data day",
                                  description="Only for a run triggered by hand: the day to train on (YYYY-MM-DD)."),
                **training_params(declaration)},
    ) as dag:
        new_partition = ReadNewPartitionOperator(
            task_id="read_new_partition",
            doc_md="The day the run's S3 notifications announce (the newest), and the execution it shares.",
            training_dag_id=declaration.dag_id, cron=declaration.cron, data_day="{{ params.data_day }}")
        tasks = training_tasks(declaration, new_partition.output)
        new_partition >> tasks["find_pipeline" if declaration.existing else "upsert_pipeline"]
    return dag


def new_data_asset(declaration: PipelineDeclaration) -> Asset:
    """The pipeline's raw data as an asset, watched in the triggerer: each new partition is an event."""
    from airflow.sdk import AssetWatcher

    from .triggers.new_partitions import NewPartitionTrigger

    assert declaration.events is not None
    trigger = NewPartitionTrigger(queue_name=declaration.events.queue, data_prefix=declaration.data_prefix)
    return Asset(name=f"s3-data/{declaration.key}/{declaration.data_prefix}",
                 watchers=[AssetWatcher(name=f"{declaration.key}_new_data", trigger=trigger)])


def model_package_asset(declaration: PipelineDeclaration) -> Asset:
    """The declared registry group as an Airflow asset: each approval in it is an event (the package in its extra)."""
    # Named only: a URI with a scheme makes Airflow load every provider's asset handlers (~200 ms per parse).
    return Asset(name=f"sagemaker-model-package-group/{declaration.model_package_group}")


DEPLOY_DOC = """
### Deploy {name}'s approved model

Started by each approval in `{group}` (the training DAG's `approve_model` emits an asset event
carrying the package), or by hand with a version in the form (any Approved one; an older one than
the endpoint serves only with **rollback**). One run at a time.

1. **choose_model** picks the package (the form's version, the approval's, or the group's newest
   Approved), refuses one that is not Approved, reads its {metric} and where its held-out rows are,
   and what the endpoint serves now. Names derive from the version: nothing is created twice.
2. **create_model** (from the package), **create_endpoint_config**, **deploy_endpoint**: creates
   the endpoint, or updates it blue/green; the wait is deferred.
3. **verify_endpoint** checks the endpoint really serves the new config (a failed update leaves it
   InService on the old one, which the wait reports as success) and gives SageMaker's reason if not.
4. **smoke_test** invokes the endpoint with held-out rows (`{holdout}` beside the package's
   evaluation): every answer parses, {metric} is within the tolerance of the package's, the median
   latency within the budget.
5. **roll_back**, when 3 or 4 failed: the endpoint back on what it served before, proven to
   answer, and the run failed with the reason (an endpoint this run created is deleted).
6. **notify**: DEPLOYED / UNCHANGED / ROLLED BACK / FAILED on the run's note and to people.

Settings: the JSON Variable `{settings_variable}` (`endpoint_name`, `endpoint_instance_type`,
`endpoint_instance_count`, `smoke_test_tolerance`, `smoke_test_p50_ms`).
"""


def deploy_dag(declaration: PipelineDeclaration) -> DAG:
    """The pipeline's deploy DAG: on each approval (or by hand), the model behind a smoke-tested endpoint."""
    from .operators.deployment_plan import ChooseDeploymentOperator
    from .operators.endpoint_checks import RollbackEndpointOperator, SmokeTestOperator, VerifyEndpointOperator
    from .operators.endpoint_deployment import (
        CreateEndpointConfigOperator,
        CreateModelOperator,
        DeployEndpointOperator,
    )
    from .operators.notify_deployment import NotifyDeploymentOperator
    from .run_failures import record_failure

    assert declaration.deploy is not None
    poll = "{{ var.value.get('sagemaker_pipelines_poll_seconds', 30) }}"
    with DAG(
        dag_id=declaration.deploy.dag_id,
        description=f"Deploy {declaration.name}'s approved model to its endpoint, smoke-tested, rolled back on failure",
        doc_md=DEPLOY_DOC.format(name=declaration.name, group=declaration.model_package_group,
                                 metric=declaration.metric.name.upper(), holdout=declaration.deploy.holdout,
                                 settings_variable=declaration.settings_variable),
        schedule=[model_package_asset(declaration)],
        start_date=ANY_DAY,
        catchup=False,
        max_active_runs=1,  # one endpoint, one update at a time
        tags=["sagemaker", "mlops", "deploy", *declaration.tags],
        render_template_as_native_obj=True,
        default_args={**DEFAULT_ARGS, "retries": 1, "on_failure_callback": record_failure},
        params={
            "package_version": Param(None, type=["null", "integer"], minimum=1, title="Model package version",
                                     description="Leave empty to deploy the approval's package (or the newest "
                                                 "Approved one); else any Approved version of the group."),
            "rollback": Param(False, type="boolean", title="Rollback",
                              description="Allow a version older than the one the endpoint serves."),
            "notify": Param(True, type="boolean", title="Notify", description="Send the deploy report."),
        },
    ) as dag:
        plan = ChooseDeploymentOperator(
            task_id="choose_model", declaration=declaration, settings_variable=declaration.settings_variable,
            package_version="{{ params.package_version }}", rollback="{{ params.rollback }}")
        model = CreateModelOperator(task_id="create_model", config={
            "ModelName": plan.output["model_name"], "ExecutionRoleArn": plan.output["role_arn"],
            "PrimaryContainer": {"ModelPackageName": plan.output["model_package_arn"]}})
        config = CreateEndpointConfigOperator(task_id="create_endpoint_config", config={
            "EndpointConfigName": plan.output["config_name"],
            "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": plan.output["model_name"],
                                    "InstanceType": plan.output["instance_type"],
                                    "InitialInstanceCount": plan.output["instance_count"]}],
            "DataCaptureConfig": plan.output["data_capture"]})
        deploy = DeployEndpointOperator(task_id="deploy_endpoint", poll_seconds=poll, retries=0, config={
            "EndpointName": plan.output["endpoint_name"], "EndpointConfigName": plan.output["config_name"]})
        verify = VerifyEndpointOperator(task_id="verify_endpoint", plan=plan.output, retries=0)
        smoke = SmokeTestOperator(task_id="smoke_test", plan=plan.output, retries=0)
        checks = [deploy.task_id, verify.task_id, smoke.task_id]
        rollback = RollbackEndpointOperator(task_id="roll_back", plan=plan.output, checks=checks, poll_seconds=poll)
        notify = NotifyDeploymentOperator(
            task_id="notify", plan=plan.output, smoke_test=smoke.output,
            steps=[plan.task_id, model.task_id, config.task_id, *checks, rollback.task_id])
        plan >> model >> config >> deploy >> verify >> smoke
        [deploy, verify, smoke] >> rollback
        [plan, model, config, deploy, verify, smoke, rollback] >> notify
    return dag


SCORING_DOC = """
### Score {name}'s data, one data day per run

One run per **data day** at `{cron}` (UTC), after training: the run for day D scores
`s3://<bucket>/{prefix}/ds=D/` once D is over; a backfill scores each day of its range.

1. **choose_model** picks the model **live for the day**: of `{group}`'s Approved packages, the one
   that learned from the latest day before D (by the data day each recorded; with the setting
   `scoring_uses_same_day_model`, D itself included). So a backfill scores each day with the model
   of its time. The form's **model = champion** scores with the newest Approved package instead.
   A day with no such model fails with the reason; nothing is created.
2. **choose_partition** waits for the day's data (the form's "Wait for the data").
3. **prepare_input** rewrites the day's CSV files as the model takes them ({features}), each row
   with its id{id_doc}; a malformed file fails here, naming the file, the row and the column.
4. **create_model** creates the model from the package (kept when it exists).
5. **score** runs the batch transform job, named after the day and the model version: a retry or a
   clear attaches to it, or reuses its output, and never starts a second one; the wait is deferred.
6. **publish_scores** copies the scores (`<id>,<score>` lines) to `s3://<bucket>/{output}/ds=D/`, each
   object carrying the model package version in its metadata, with `_summary.json`; it compares
   the distribution with the day before's (a large shift is a warning, not a failure).
7. **notify**: SCORED (rows, share flagged positive, model version, duration, console link, the
   shift) or FAILED with the reason, on the run's note and to people.

Settings: the JSON Variable `{settings_variable}` (`scoring_name`, `scoring_instance_type`,
`scoring_instance_count`, `scoring_uses_same_day_model`, `score_shift_psi`).
"""


def scoring_dag(declaration: PipelineDeclaration) -> DAG:
    """The pipeline's scoring DAG: each data day scored by a batch transform with the model live for it."""
    from .operators.endpoint_deployment import CreateModelOperator
    from .operators.notify_scoring import NotifyScoringOperator
    from .operators.scoring_input import PrepareScoringInputOperator
    from .operators.scoring_output import PublishScoresOperator
    from .operators.scoring_plan import ChooseScoringModelOperator
    from .operators.scoring_transform import IdempotentTransformOperator
    from .run_failures import record_failure
    from .timetables import DataDayTimetable

    spec = declaration.scoring
    assert spec is not None
    with DAG(
        dag_id=spec.dag_id,
        description=f"Score each day of {declaration.name}'s data with the model live for it (batch transform)",
        doc_md=SCORING_DOC.format(
            name=declaration.name, cron=spec.cron, prefix=declaration.data_prefix,
            group=declaration.model_package_group, features=", ".join(spec.features),
            id_doc=f" (its `{spec.id_column}`)" if spec.id_column else " (its file and line)",
            output=spec.output_prefix, settings_variable=declaration.settings_variable),
        schedule=DataDayTimetable(spec.cron, timezone="UTC"),
        start_date=ANY_DAY,
        catchup=False,
        max_active_runs=3,
        tags=["sagemaker", "mlops", "scoring", *declaration.tags],
        render_template_as_native_obj=True,
        default_args={**DEFAULT_ARGS, "on_failure_callback": record_failure},
        params={
            "model": Param("live", type="string", enum=["live", "champion"], title="Model",
                           description="live: the model live for the day (approved before it); champion: the "
                                       "group's newest Approved model."),
            "wait_for_data_minutes": Param(
                360, type="integer", minimum=0, maximum=1440, title="Wait for the data (minutes)",
                description="How long the run waits for its data to land before it fails (0: fail at once)."),
            "notify": Param(True, type="boolean", title="Notify", description="Send the scoring report."),
        },
    ) as dag:
        plan = ChooseScoringModelOperator(
            task_id="choose_model", declaration=declaration, settings_variable=declaration.settings_variable,
            model="{{ params.model }}", retries=0)
        partition = DataPartitionOperator(
            task_id="choose_partition", bucket=plan.output["bucket"], partition_uri=declaration.partition_uri,
            first_day=declaration.first_day, wait_for_data_minutes="{{ params.wait_for_data_minutes }}")
        rows = PrepareScoringInputOperator(
            task_id="prepare_input", partition_uri=partition.output["input_data_url"],
            input_uri=plan.output["input_uri"], features=spec.features, id_column=spec.id_column)
        model = CreateModelOperator(task_id="create_model", config={
            "ModelName": plan.output["model_name"], "ExecutionRoleArn": plan.output["role_arn"],
            "PrimaryContainer": {"ModelPackageName": plan.output["model_package_arn"]}})
        score = IdempotentTransformOperator(
            task_id="score", poll_seconds="{{ var.value.get('sagemaker_pipelines_poll_seconds', 30) }}", retries=1,
            config={
                "TransformJobName": plan.output["job_name"], "ModelName": plan.output["model_name"],
                "TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix",
                                                                   "S3Uri": rows.output["input_uri"]}},
                                   "ContentType": "text/csv", "SplitType": "Line"},
                "TransformOutput": {"S3OutputPath": plan.output["staging_uri"], "AssembleWith": "Line",
                                    "Accept": "text/csv"},
                "TransformResources": {"InstanceType": plan.output["instance_type"],
                                       "InstanceCount": plan.output["instance_count"]},
                "BatchStrategy": "MultiRecord",
                # The row's id stays out of the model's input and comes back beside its score.
                "DataProcessing": {"InputFilter": "$[1:]", "JoinSource": "Input", "OutputFilter": "$[0,-1]"},
            })
        publish = PublishScoresOperator(task_id="publish_scores", plan=plan.output, transform=score.output)
        notify = NotifyScoringOperator(
            task_id="notify", plan=plan.output, result=publish.output,
            steps=[plan.task_id, partition.task_id, rows.task_id, model.task_id, score.task_id, publish.task_id])
        plan >> partition >> rows >> model >> score >> publish
        [plan, partition, rows, model, score, publish] >> notify
    return dag


def family_dag_ids(declaration: PipelineDeclaration) -> list[str]:
    """The ids of the DAGs `pipeline_dags` builds, known without building them."""
    return declaration.dag_ids


def pipeline_dags(declaration: PipelineDeclaration) -> list[DAG]:
    """Every DAG of the pipeline's family, as its declaration asks."""
    from .monitoring_dag import monitoring_dag

    monitored = declaration.data_quality is not None and declaration.data_quality.monitoring_dag_id is not None
    return [training_dag(declaration), *([new_data_dag(declaration)] if declaration.events else []),
            *([deploy_dag(declaration)] if declaration.deploy else []),
            *([scoring_dag(declaration)] if declaration.scoring else []),
            *([monitoring_dag(declaration)] if monitored else [])]
