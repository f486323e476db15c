"""What travels between the tasks of a DAG run, as XComs: one TypedDict per payload.

Each operator that returns one sets `multiple_outputs`, so a DAG selects a field with
`task.output["field"]`; `tests/dags` checks every such key against these definitions, so a
renamed field fails the tests rather than resolving to nothing at run time. Numbers stay
numbers, an absent value is None, never the string "None".
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict


class PipelineDeployment(TypedDict):
    """A compiled pipeline as one deployment runs it: what the DAG's settings callable makes of the
    deployment's settings (UpsertPipelineOperator's `deployment`)."""

    pipeline_name: str
    role_arn: str
    bucket: str
    prefix: str  # the scripts are uploaded under it, in the bucket
    model_package_group: str
    region: str
    template_values: dict[str, str]  # the compiled definition's placeholders
    parameter_defaults: dict[str, str | float | int | bool]


class PipelineRef(TypedDict):
    """The pipeline a run starts, as upserted (UpsertPipelineOperator)."""

    pipeline_name: str
    pipeline_arn: str
    pipeline_version: str  # a digest of the definition, scripts included
    action: Literal["created", "updated", "unchanged", "existing"]  # existing: created elsewhere, never upserted
    bucket: str
    model_package_group: str
    region: str


class DataPartition(TypedDict):
    """The data a run trains on (DataPartitionOperator)."""

    data_day: str  # YYYY-MM-DD
    input_data_url: str
    data_fingerprint: str  # changes when any object under the prefix changes
    objects: int
    bytes: int


class NewPartition(TypedDict):
    """The partition a new-data run trains on, from its S3 notifications (ReadNewPartitionOperator)."""

    data_day: str  # YYYY-MM-DD: the newest day the run's notifications named
    keys: list[str]  # the objects announced for it
    # The run whose execution this is: the training DAG's scheduled run for the day, so the day's run and
    # every notification about it lead to one execution.
    execution_of: ExecutionOwner
    other_days: list[str]  # older days announced with it: their own scheduled runs train them


class ExecutionOwner(TypedDict):
    """The DAG run an execution's idempotency token and display name derive from."""

    dag_id: str
    run_id: str


class ExecutionSummary(TypedDict):
    """How the execution ended (PipelineExecutionSensor)."""

    execution_arn: str
    execution_status: str
    failure_reason: str | None
    failed_step: str | None
    failed_step_type: str | None
    gate_failed: bool  # the pipeline's own quality gate said no: a decision, not a crash


# What an evaluation report says: metric name -> its value (the decision's metric always there).
Metrics = dict[str, float | int]


class MetricSpec(TypedDict):
    """The metric a decision rests on (a declaration's [metric]): its name, which way is better, its range."""

    name: str
    better: Literal["higher", "lower"]
    range: NotRequired[list[float] | None]


# The value a package's provenance metadata holds when its execution was started without it.
UNRECORDED = "unrecorded"


class PackageProvenance(TypedDict):
    """What a model package records about its training (its CustomerMetadataProperties);
    a value it did not record is None."""

    data_day: str | None
    pipeline_version: str | None
    data_fingerprint: str | None


class Champion(TypedDict):
    """The group's approved model the candidate is compared with."""

    arn: str
    value: float  # its value of the decision's metric
    provenance: PackageProvenance


class Evaluation(TypedDict):
    """The candidate: its metrics and its package (ReadEvaluationMetricsOperator)."""

    execution_arn: str
    metrics: Metrics
    report_uri: str
    model_package_arn: str | None  # None when the pipeline registered nothing
    model_package_status: str | None  # its ModelApprovalStatus when it was read: Approved on a re-run of a decided day
    provenance: PackageProvenance
    gate_failure_reason: str | None
    data_quality: NotRequired[DataQualityResult | None]  # None: the pipeline checks no data quality


class DataQualityBaseline(TypedDict):
    """The baseline a run's data is checked against: the champion's (DataQualityBaselineOperator)."""

    champion_arn: str | None  # the group's approved model whose baseline it is; None when there is none
    statistics: str  # s3:// URIs of its statistics.json and constraints.json; "" when there is none
    constraints: str
    skip_check: bool  # no baseline: the check is skipped, the data's own baseline registered


class DataQualityViolation(TypedDict):
    """One violated constraint, with the feature as the baseline and the checked data have it."""

    feature: str
    check: str  # the analyzer's constraint_check_type: baseline_drift_check, missing_column_check...
    kind: str  # the same in a person's words: drift, missing column...
    description: str  # the analyzer's
    baseline: str | None  # the feature in the baseline's statistics, in a few words; None when absent there
    current: str | None  # and in the checked data's; None when absent


class DataQualityResult(TypedDict):
    """What a data-quality check of a run's (or a day's captured) data found."""

    checked: bool  # False: skipped, no baseline to check against
    baseline_arn: str | None  # the model package whose baseline it was checked against
    report_uri: str | None  # the violation report; None without violations
    statistics_uri: str | None  # the checked data's statistics.json
    violations: list[DataQualityViolation]


class DecisionBasis(TypedDict):
    """What a decision rests on, besides the champion: enough to decide again against a new one."""

    metric: MetricSpec
    value: float
    threshold: float
    margin: float
    candidate: PackageProvenance
    candidate_status: str | None  # the package's approval status before this decision
    gate_failure: str | None
    model_package_group: str
    data_drift: NotRequired[list[str]]  # the features whose data violates the champion's data-quality baseline
    person_reviews: NotRequired[bool]  # a person answers for an approval (the manual mode)


# unchanged: the candidate is already the approved model (a re-run of a day decided before).
Outcome = Literal["approved", "rejected", "not_promoted", "unchanged"]


class Decision(TypedDict):
    """What the rules say about the candidate (ModelDecisionBranchOperator)."""

    outcome: Outcome
    approval_status: str  # the ModelApprovalStatus the candidate package gets
    reason: str
    champion_arn: str | None  # the approved model it was compared with
    champion_value: NotRequired[float | None]  # its value of the metric
    basis: NotRequired[DecisionBasis]


class ApprovalResult(TypedDict):
    """What the approval task did to the package (ModelPackageApprovalOperator)."""

    outcome: Outcome
    reason: str
    model_package_arn: str | None
    approval_status: str | None  # the package's status afterwards; None when there is no package
    changed: bool  # whether this task changed the registry (a re-run of a decided day changes nothing)


class ModelReview(TypedDict):
    """What a person said about the candidate the rules approve (ModelReviewOperator)."""

    mode: Literal["auto", "manual"]  # auto: nobody was asked
    answer: Literal["approved", "rejected"] | None  # None in auto mode
    reviewer: str | None  # who answered; None when nobody did in time
    comment: str
    result: ApprovalResult | None  # the package rejected by the review itself; None otherwise


class RunSummary(TypedDict):
    """What the notify task reported; `run_note` becomes the DAG run's note (run_notes.py)."""

    subject: str
    sent: bool
    run_note: str


class DeploymentPlan(TypedDict):
    """What a deploy run deploys where, and what the endpoint served before it (ChooseDeploymentOperator)."""

    endpoint_name: str
    action: Literal["create", "update", "unchanged"]
    model_package_arn: str
    model_package_version: int
    data_day: str | None
    metric: MetricSpec
    package_value: float  # the package's own value of the metric, from its evaluation report
    holdout_uri: str  # the held-out rows the smoke test invokes the endpoint with
    model_name: str
    config_name: str
    role_arn: str
    instance_type: str
    instance_count: int
    tolerance: float
    p50_budget_ms: float
    data_capture: dict[str, Any] | None  # the config's DataCaptureConfig; None: nothing is captured
    previous_config: str | None  # what the endpoint served before this run: the rollback's target
    previous_package_arn: str | None


class SmokeTestResult(TypedDict):
    """How the endpoint answered held-out rows (SmokeTestOperator)."""

    endpoint_name: str
    metric: str
    value: float  # of the endpoint's answers
    package_value: float
    tolerance: float
    p50_ms: float
    p50_budget_ms: float
    rows: int
    requests: int
    sample_row: str  # one held-out row (features) and what the endpoint answered for it
    sample_prediction: float


class ScoringPlan(TypedDict):
    """Which model scores a data day, and where everything goes (ChooseScoringModelOperator)."""

    data_day: str
    bucket: str
    model_package_arn: str
    model_package_version: int
    model_data_day: str | None  # the day the model learned from
    choice: Literal["live", "champion"]  # the model live for the day, or the group's newest Approved
    model_name: str
    job_name: str  # the day's and the model's: a retry or clear attaches to it (an attempt after a failed one)
    role_arn: str
    instance_type: str
    instance_count: int
    input_uri: str  # the model's input: the partition's features, one object per data file
    staging_uri: str  # the transform jobs' outputs, one folder per job, before they are published
    scores_uri: str  # scores/ds=<day>/
    previous_scores_uri: str  # the day before's, to compare the distribution with
    positive_threshold: float | None
    shift_psi: float


class ScoringInput(TypedDict):
    """The partition's rows, as the model takes them (PrepareScoringInputOperator)."""

    input_uri: str
    files: int
    rows: int


class ScoreSummary(TypedDict):
    """A day's scores in a few numbers, written beside them (`_summary.json`) for the next day to compare."""

    rows: int
    mean: float
    minimum: float
    maximum: float
    positive_share: float | None  # of scores at or above the positive threshold
    edges: list[float]  # the histogram's bin edges
    counts: list[int]


class ScoringResult(TypedDict):
    """What a scoring run wrote and how the scores compare with the day before's (PublishScoresOperator)."""

    data_day: str
    scores_uri: str
    objects: int
    job_name: str
    model_package_arn: str
    model_package_version: int
    seconds: float  # the transform job's own duration
    console_url: str  # the transform job's page
    summary: ScoreSummary
    previous_day: str | None  # the day compared with; None when it has no scores
    psi: float | None  # population stability index against it
    shifted: bool  # psi above the setting: a warning, not a failure


class MonitoringPlan(TypedDict):
    """What a monitoring run checks, against what, and where everything goes (ChooseMonitoringOperator)."""

    data_day: str
    bucket: str
    endpoint_name: str
    capture_prefix: str  # the key prefix of the day's captured invocations
    features: list[str]  # the model's input columns: a captured request's fields, in order
    model_package_arn: str | None  # the package the endpoint serves, whose baseline it is
    model_package_version: int | None
    baseline_statistics: str | None  # its DriftCheckBaselines.ModelDataQuality files
    baseline_constraints: str | None
    input_uri: str  # the day's requests as a CSV with the features' header
    baseline_uri: str  # the baseline restricted to the features (no request carries the label)
    results_uri: str  # the analyzer's statistics.json and constraint_violations.json
    job_name: str  # the day's and the model's: a retry or clear attaches to it
    image_uri: str  # Model Monitor's analyzer in the region
    role_arn: str
    instance_type: str
    skip_reason: str | None  # why there is nothing to check (capture off, no endpoint, no baseline); None: checked


class CapturedInput(TypedDict):
    """The day's captured requests, written for the analyzer (PrepareCapturedDataOperator)."""

    input_uri: str
    files: int  # capture files read
    rows: int  # request rows
    baseline_statistics: str  # the restricted baseline's files
    baseline_constraints: str
