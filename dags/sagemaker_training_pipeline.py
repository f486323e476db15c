"""
### Train the classification model with SageMaker Pipelines, one run per day of data

Each run trains on **its own day's partition**, the **data day** its run id starts with
(`scheduled__data-2024-03-01__…`): the run for day D reads `s3://<bucket>/raw-data/ds=D/` and
starts once D is over. A run triggered for a logical date trains on that date's day when the day
is over; one triggered for today (the form's default) or without a logical date, on the last
complete day. A day before the first day of data
(2024-01-01), or one not over yet, is refused with the reason. `airflow backfill create
--from-date … --to-date …` starts one SageMaker execution per day, each on that day's data. An
empty partition is waited for (the form's "Wait for the data", 6 hours by default), then the run
fails saying so. Catchup is off; `max_active_runs` and the `sagemaker_pipelines` pool (deferred
tasks counted) cap concurrent executions.

1. **upsert_pipeline** fills the pipeline's compiled definition (`include/pipelines/compiled`, made by
   `make pipelines` from its SDK source) in with the deployment's settings, the JSON Variable
   `sagemaker_pipelines_settings`, and creates or updates the pipeline (no call when unchanged).
2. **choose_partition** picks the run's day of data and checks that it is there.
3. **start_execution** starts one execution for the run. Its ClientRequestToken and display
   name (which starts with the data day) derive from the DAG run, so a retry or a clear finds
   the same execution. Clearing a run whose execution Failed or was Stopped resumes it
   (RetryPipelineExecution: the failed steps run again, the succeeded ones are kept), or starts
   the run's next execution when the pipeline or the data changed since.
4. **wait_for_execution** waits in the triggerer and logs every step as it moves; a failed or
   stopped execution fails it with SageMaker's reason; at the timeout, or when it is marked
   failed, it stops the execution. The pipeline's own quality gate failing is a decision, not
   a crash: the run goes on to record and announce it.
5. **read_metrics** reads the evaluation report of the evaluation step and the registered
   package, with the day, data and pipeline version it records.
6. **decide_model** compares the candidate with the group's approved model (the champion):
   rejected when AUC < `min_auc_threshold`, when the pipeline's gate said no, or when it is
   more than `champion_margin` worse; **not promoted** when it learned from an older day than
   the champion (a backfill) or from the same day, data and pipeline version (a re-run);
   **unchanged** when it is the approved model already (its day was approved before); else
   approved. **approve_model** / **reject_model** / **keep_unpromoted** set the package's status
   (Approved / Rejected / PendingManualApproval) with the reason and this run's id; approving
   checks the champion again first. Both run in the one-slot `sagemaker_model_registry` pool.

**What a backfill changes in the registry.** Every backfilled day registers its model and
records its metrics, its day and its decision on the package (the model-quality history), but
a model trained on an older day than the approved one is never approved: backfills fill in
history, they never demote the live model. Re-running a day whose data and pipeline did not
change approves no duplicate.
7. **notify** sends the report (SNS topic from the Variable `sagemaker_pipelines_sns_topic_arn`;
   email and Slack where configured); a re-run that changed nothing says so once (or nothing,
   with the Variable `sagemaker_pipelines_report_unchanged` false). Any task that fails for good
   reports too, with its reason.

**The run's note** starts with the outcome, on one line: APPROVED / REJECTED / GATE FAILED /
NOT PROMOTED / UNCHANGED, with the data day, the AUC and the package, or FAILED at a task, with
its reason. A cleared run that ends differently gets the new outcome; what a person wrote stays
below it.

Every AWS call goes through the `aws_default` connection: its `endpoint_url` chooses between
real AWS and the local endpoint.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.providers.amazon.aws.utils.sagemaker import ApprovalStatus
from airflow.sdk import DAG, Param, XComArg
from airflow_sagemaker_pipelines.notifications import FailureNotification
from airflow_sagemaker_pipelines.operators.data_partition import DataPartitionOperator
from airflow_sagemaker_pipelines.operators.evaluation import ReadEvaluationMetricsOperator
from airflow_sagemaker_pipelines.operators.model_approval import ModelPackageApprovalOperator
from airflow_sagemaker_pipelines.operators.model_decision import DECISION_KEY, ModelDecisionBranchOperator
from airflow_sagemaker_pipelines.operators.notify_run import NotifyRunOperator
from airflow_sagemaker_pipelines.operators.start_pipeline import StartPipelineExecutionOperator
from airflow_sagemaker_pipelines.operators.upsert_pipeline import UpsertPipelineOperator
from airflow_sagemaker_pipelines.params import as_fraction
from airflow_sagemaker_pipelines.sensors.pipeline_execution import PipelineExecutionSensor
from airflow_sagemaker_pipelines.timetables import DataDayTimetable

from include.pipelines import contract
from include.pipelines.deployment import COMPILED_DEFINITION, pipeline_deployment

FIRST_DATA_DAY = pendulum.datetime(2024, 1, 1, tz="UTC")  # choose_partition refuses an earlier day: no data
# Airflow creates no task at all for a run before the DAG's start date: a run for such a day would be an
# empty green success. So the DAG starts long before the data, and choose_partition says why it refuses.
ANY_DAY = pendulum.datetime(2000, 1, 1, tz="UTC")
PIPELINE_TIMEOUT = timedelta(hours=6)
SAGEMAKER_POOL = "sagemaker_pipelines"
REGISTRY_POOL = "sagemaker_model_registry"  # one slot: decisions on the registry, one at a time
CHAMPION_CHECK = {"metric_paths": contract.METRIC_PATHS, "provenance_keys": contract.PROVENANCE}
# The task each decision leads to; a re-run of an approved day (unchanged) confirms the approval.
BRANCHES = {"approved": "approve_model", "unchanged": "approve_model", "rejected": "reject_model",
            "not_promoted": "keep_unpromoted"}

with DAG(
    dag_id="sagemaker_training_pipeline",
    description="One run per day of data (its data day starts the run id): train, evaluate and register the "
                "classification model with SageMaker Pipelines",
    doc_md=__doc__,
    schedule=DataDayTimetable("0 0 * * *", timezone="UTC"),
    start_date=ANY_DAY,
    catchup=False,
    max_active_runs=3,
    tags=["sagemaker", "mlops", "training"],
    render_template_as_native_obj=True,  # numbers stay numbers, None stays None
    user_defined_macros={"as_fraction": as_fraction},  # 0.75 or 75 (%) -> 0.75
    default_args={
        "owner": "ml-platform",
        "retries": 2,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": True,
        "execution_timeout": timedelta(minutes=30),
        "on_failure_callback": FailureNotification(),
    },
    params={
        "min_auc_threshold": Param(
            contract.DEFAULT_MIN_AUC_THRESHOLD, type="number", minimum=0, maximum=100, title="Minimum AUC",
            description="The lowest test AUC (area under the ROC curve) a model may have to be approved: a fraction "
                        "such as 0.75, or a percentage such as 75 (read as 0.75).",
        ),
        "champion_margin": Param(
            0.02, type="number", minimum=0, maximum=100, title="Champion margin",
            description="How much lower than the approved model's AUC the new model's may be and still replace it, "
                        "in AUC: 0.02 (or 2, a percentage) lets a model of AUC 0.78 replace one of 0.80.",
        ),
        "wait_for_data_minutes": Param(
            360, type="integer", minimum=0, maximum=1440, title="Wait for the data (minutes)",
            description="How long the run waits for its day's partition to hold data before it fails "
                        "(0: fail at once when it is empty).",
        ),
        "training_instance_type": Param(
            "ml.m5.xlarge", type="string", pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$", title="Training instance type",
            description="A SageMaker ml.* instance type, such as ml.m5.xlarge or ml.c5.2xlarge.",
        ),
        "input_data_url": Param(
            None, type=["null", "string"], pattern=r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/.*)?$",
            title="Input data URL", description="Leave empty to train on the run's data day, "
                                                "s3://<bucket>/raw-data/ds=<day>/: the logical date's day when it is "
                                                "over, else (the form's default, now) the last complete day. Else an "
                                                "s3:// prefix such as s3://my-bucket/raw-data/ds=2024-03-01/.",
        ),
        "model_approval_status": Param(
            ApprovalStatus.PENDING_MANUAL_APPROVAL.value, type="string", enum=[s.value for s in ApprovalStatus],
            title="Registration status", description="The status the pipeline registers the model with.",
        ),
        "notify": Param(True, type="boolean", title="Notify", description="Send the run report (SNS, email, Slack)."),
    },
) as dag:
    pipeline = UpsertPipelineOperator(
        task_id="upsert_pipeline",
        doc_md="Create or update the SageMaker pipeline from its compiled definition (no call when unchanged).",
        compiled_definition=COMPILED_DEFINITION,
        deployment=pipeline_deployment,
        settings_variable="sagemaker_pipelines_settings",
    )

    partition = DataPartitionOperator(
        task_id="choose_partition",
        doc_md="The run's day of data: its S3 prefix, waited for until it holds data, and a fingerprint of its "
               "objects. A day before the first day of data, or not over yet, is refused.",
        bucket=pipeline.output["bucket"],
        partition_uri=contract.partition_uri,
        input_data_url="{{ params.input_data_url }}",
        first_day=FIRST_DATA_DAY.date(),
        wait_for_data_minutes="{{ params.wait_for_data_minutes }}",
    )

    start_execution = StartPipelineExecutionOperator(
        task_id="start_execution",
        doc_md="Start this run's execution, idempotently: a retry or clear gets the same execution back.",
        pool=SAGEMAKER_POOL,
        pipeline_name=pipeline.output["pipeline_name"],
        data_day=partition.output["data_day"],
        pipeline_params={
            contract.INPUT_DATA_URL: partition.output["input_data_url"],
            contract.MIN_AUC_THRESHOLD: "{{ as_fraction(params.min_auc_threshold, 'min_auc_threshold') }}",
            contract.TRAINING_INSTANCE_TYPE: "{{ params.training_instance_type }}",
            contract.MODEL_APPROVAL_STATUS: "{{ params.model_approval_status }}",
            contract.DATA_DAY: partition.output["data_day"],
            contract.PIPELINE_VERSION: pipeline.output["pipeline_version"],
            contract.DATA_FINGERPRINT: partition.output["data_fingerprint"],
        },
    )

    wait_for_execution = PipelineExecutionSensor(
        task_id="wait_for_execution",
        doc_md="Wait in the triggerer; the log shows each step's status changes and any failure's reason.",
        pool=SAGEMAKER_POOL,
        pipeline_exec_arn=start_execution.output,
        poll_interval="{{ var.value.get('sagemaker_pipelines_poll_seconds', 30) }}",
        quality_gate_steps=[contract.QUALITY_GATE_FAIL_STEP],
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
        evaluation_step=contract.EVALUATE_STEP,
        evaluation_output=contract.EVALUATION_OUTPUT,
        report_file=contract.EVALUATION_REPORT_FILE,
        register_step=contract.REGISTER_STEP,
        metric_paths=contract.METRIC_PATHS,
        count_paths=contract.COUNT_PATHS,
        provenance_keys=contract.PROVENANCE,
    )

    decide_model = ModelDecisionBranchOperator(
        task_id="decide_model",
        doc_md="Compare with the group's approved model: approve, reject, or keep without promoting "
               "(trained on older data, or the same data and pipeline as the approved model).",
        pool=REGISTRY_POOL,
        evaluation=read_metrics.output,
        model_package_group=pipeline.output["model_package_group"],
        min_auc_threshold="{{ as_fraction(params.min_auc_threshold, 'min_auc_threshold') }}",
        champion_margin="{{ as_fraction(params.champion_margin, 'champion_margin') }}",
        branches=BRANCHES,
        **CHAMPION_CHECK,
    )
    decision = XComArg(decide_model, key=DECISION_KEY)

    approval_tasks = {
        task_id: ModelPackageApprovalOperator(
            task_id=task_id,
            doc_md=f"Set the registered model package to {status.value}, with the decision's reason.",
            pool=REGISTRY_POOL,
            model_package_arn=read_metrics.output["model_package_arn"],
            decision=decision,
            approval_status=status.value,
            **CHAMPION_CHECK,
        )
        for task_id, status in (
            ("approve_model", ApprovalStatus.APPROVED),
            ("reject_model", ApprovalStatus.REJECTED),
            ("keep_unpromoted", ApprovalStatus.PENDING_MANUAL_APPROVAL),
        )
    }

    notify = NotifyRunOperator(
        task_id="notify",
        doc_md="Send the run report: decision, metrics, model package, execution ARN and console link.",
        trigger_rule="none_failed_min_one_success",
        evaluation=read_metrics.output,
        decision=decision,
        approvals={outcome: approval_tasks[task_id].output for outcome, task_id in BRANCHES.items()},
        console_link=XComArg(start_execution, key=StartPipelineExecutionOperator.console_link_key),
        data_day=partition.output["data_day"],
    )

    pipeline >> partition >> start_execution >> wait_for_execution >> read_metrics >> decide_model
    decide_model >> list(approval_tasks.values()) >> notify
