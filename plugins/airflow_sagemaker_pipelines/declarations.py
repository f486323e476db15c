"""A pipeline as a folder: what its `pipeline.toml` declares, read and checked with every error named.

The DAG family of a pipeline (dag_family.py) is built from its declaration alone: the SageMaker
pipeline's name (and whether this package upserts it from a compiled definition beside the file,
or it exists in SageMaker already), its schedule and where a day's data lives, the evaluation
step and report, the metric the decision rests on and which way is better, the registry group,
and the pipeline parameters the DAG sends. README "Bring your own pipeline" lists every key.

Reading is strict: a missing key, a key this package does not know, or a value of the wrong kind
is a DeclarationError naming the file, the key and what is allowed (pipeline_catalog.py finds the
folders and checks them together).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any, Literal, NamedTuple

DECLARATION_FILE = "pipeline.toml"
COMPILED_FILE = "compiled.json"
Partitioning = Literal["daily", "none"]
Better = Literal["higher", "lower"]
_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$")  # SageMaker pipeline and group names
_DAG_ID = re.compile(r"^[a-zA-Z0-9_.-]{1,250}$")
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_PARAMETER = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")  # a pipeline parameter's name
PROVENANCE_FIELDS = ("data_day", "pipeline_version", "data_fingerprint")
SMOKE_TEST_METRICS = ("auc", "rmse", "mae", "accuracy")  # what smoke_metrics.METRICS computes


class DeclarationError(ValueError):
    """A declaration this package cannot build DAGs from; the message names the file and the key."""


# The records are NamedTuples: immutable, and built four times faster than frozen dataclasses (every DAG
# file parse defines them).
class MetricRule(NamedTuple):
    """The metric the decision rests on: where the report has it, which way is better, the gate and margin."""

    name: str
    path: tuple[str, ...]
    better: Better
    threshold: float
    margin: float
    range: tuple[float, float] | None = None  # values outside are refused
    parameter: str | None = None  # the pipeline's own gate parameter, sent the threshold
    gate_step: str | None = None  # the Fail step whose failure is the gate's verdict, not a crash

    @property
    def fraction(self) -> bool:
        """A metric from 0 to 1 (AUC, accuracy): the trigger form also takes it as a percentage."""
        return self.range == (0.0, 1.0)


class FormParameter(NamedTuple):
    """A pipeline parameter the trigger form sets, as a string with a default (and a pattern, if given)."""

    name: str
    title: str
    default: str
    description: str = ""
    pattern: str | None = None


class SettingParameter(NamedTuple):
    """A deployment setting (the settings Variable's key) that sets a pipeline parameter's default."""

    key: str
    parameter: str
    default: str | float | int | bool
    pattern: str | None = None
    allowed: str | None = None  # what a value may be, in words, for errors (else the pattern)


class DeploySpec(NamedTuple):
    """The deploy DAG of a pipeline: its id, and the held-out rows its smoke test invokes the endpoint with."""

    dag_id: str
    # The held-out rows (CSV, no header, the label first), relative to the folder that holds the package's
    # evaluation output: `<folder>/<evaluation output>/<report>` is its ModelQuality report.
    holdout: str

    def holdout_uri(self, report_uri: str) -> str:
        """Where a package's held-out rows are, from its ModelQuality report's URI."""
        return f"{report_uri.rsplit('/', 2)[0]}/{self.holdout}"


class ScoringSpec(NamedTuple):
    """The scoring DAG of a pipeline: one batch transform per data day, with the model live for that day."""

    dag_id: str
    cron: str  # daily, after training's: it scores the day training learned from the day before
    features: tuple[str, ...]  # the columns the model takes, in the order it was trained on
    id_column: str | None  # a column written beside each score; else the row's file and line
    positive_threshold: float | None  # a score at or above it is flagged positive (classification)
    output_prefix: str  # scores/ds=<day>/ under the bucket

    def scores_prefix(self, day: date) -> str:
        return f"{self.output_prefix}/ds={day.isoformat()}/"


class EventsSpec(NamedTuple):
    """The new-data DAG of a pipeline: a run as soon as a partition's objects land (S3 notifications to SQS)."""

    dag_id: str
    queue: str  # the SQS queue the bucket's ObjectCreated notifications for the data's prefix go to


class DataQualitySpec(NamedTuple):
    """The pipeline's data-quality check: a QualityCheck step (DATA_QUALITY) on each run's data, checked against
    the champion's baseline, and the daily check of what the deployed endpoint is sent."""

    step: str  # the QualityCheck step
    # The step's pipeline parameters, which the DAG sets: whether to skip the check (no champion baseline yet), to
    # register this data's baseline with the package, to fail the step on a violation (no: the DAG decides), and
    # the champion's baseline files.
    skip_check_parameter: str
    register_baseline_parameter: str
    fail_on_violation_parameter: str
    baseline_statistics_parameter: str
    baseline_constraints_parameter: str
    monitoring_dag_id: str | None  # the deployed endpoint's captured requests, checked each day ([deploy] needed)
    monitoring_cron: str

    @property
    def parameters(self) -> tuple[str, ...]:
        return (self.skip_check_parameter, self.register_baseline_parameter, self.fail_on_violation_parameter,
                self.baseline_statistics_parameter, self.baseline_constraints_parameter)


class PipelineDeclaration(NamedTuple):
    """A pipeline's declaration as read from its folder: what its DAG family is built from."""

    folder: Path
    name: str  # the SageMaker pipeline's name (the deployment's settings may rename it)
    description: str
    existing: bool  # created elsewhere: started and followed, never upserted
    dag_id: str
    tags: tuple[str, ...]
    settings_variable: str
    partitioning: Partitioning
    cron: str | None
    first_day: date | None
    data_prefix: str
    data_parameter: str
    evaluation_step: str
    evaluation_output: str
    evaluation_report: str
    metric: MetricRule
    metrics: Mapping[str, tuple[str, ...]]  # reported besides the decision's metric
    counts: Mapping[str, tuple[str, ...]]  # whole numbers (rows)
    model_package_group: str
    register_step: str
    approval_status_parameter: str | None
    provenance: Mapping[str, str]  # PackageProvenance field -> the pipeline parameter the package records
    form: tuple[FormParameter, ...] = ()
    settings: tuple[SettingParameter, ...] = ()
    deploy: DeploySpec | None = None  # a deploy DAG, started by each approval
    scoring: ScoringSpec | None = None  # a scoring DAG, one batch transform per data day
    events: EventsSpec | None = None  # a DAG that trains as soon as a partition lands
    data_quality: DataQualitySpec | None = None  # a data-quality check of each run's data, and of the endpoint's

    @property
    def key(self) -> str:
        """The folder's name: the pipeline's key in DAG ids and Variable names."""
        return self.folder.name

    @property
    def dag_ids(self) -> list[str]:
        """Every DAG of the family: training, and new-data, deploy and scoring where declared."""
        return [self.dag_id, *([self.events.dag_id] if self.events else []),
                *([self.deploy.dag_id] if self.deploy else []), *([self.scoring.dag_id] if self.scoring else []),
                *([self.data_quality.monitoring_dag_id] if self.data_quality and self.data_quality.monitoring_dag_id
                  else [])]

    @property
    def file(self) -> Path:
        return self.folder / DECLARATION_FILE

    @property
    def compiled_definition(self) -> Path:
        return self.folder / COMPILED_FILE

    @property
    def metric_paths(self) -> dict[str, tuple[str, ...]]:
        """Every metric read from the report, the decision's first."""
        return {self.metric.name: self.metric.path, **self.metrics}

    def partition_prefix(self, day: date | None) -> str:
        """The key prefix of a data day's partition (daily), or of the pipeline's data (none)."""
        return f"{self.data_prefix}/ds={day.isoformat()}/" if day is not None else f"{self.data_prefix}/"

    def partition_uri(self, bucket: str, day: date | None) -> str:
        return f"s3://{bucket}/{self.partition_prefix(day)}"


class _Section:
    """One table of the file, read key by key; what is left unread when it is closed is an unknown key."""

    def __init__(self, file: Path, name: str, table: Any, *, required: bool = True) -> None:
        self.file, self.name = file, name
        if table is None and not required:
            table = {}
        if not isinstance(table, dict):
            raise DeclarationError(f"{file}: [{name}] is {'missing' if table is None else 'not a table'}")
        self.table = dict(table)

    def error(self, key: str, message: str) -> DeclarationError:
        return DeclarationError(f"{self.file}: [{self.name}] {key}: {message}")

    def take(self, key: str, kind: type | tuple[type, ...], default: Any = ..., *, allowed: str = "") -> Any:
        if key not in self.table:
            if default is ...:
                raise self.error(key, f"missing; expected {allowed or _kind_name(kind)}")
            return default
        value = self.table.pop(key)
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            raise self.error(key, f"{value!r}: expected {allowed or _kind_name(kind)}")
        if not isinstance(value, kind):
            raise self.error(key, f"{value!r}: expected {allowed or _kind_name(kind)}")
        return value

    def matching(self, key: str, pattern: re.Pattern[str], allowed: str, default: Any = ...) -> Any:
        value = self.take(key, str, default, allowed=allowed)
        if value is not None and value is not default and not pattern.match(value):
            raise self.error(key, f"{value!r}: expected {allowed}")
        return value

    def path(self, key: str, default: Any = ...) -> tuple[str, ...] | None:
        value = self.take(key, str, default, allowed="a dotted path in the report, such as metrics.auc.value")
        if value is None or value is default:
            return value
        parts = tuple(value.split("."))
        if not all(parts):
            raise self.error(key, f"{value!r}: expected a dotted path in the report, such as metrics.auc.value")
        return parts

    def close(self) -> None:
        if self.table:
            raise self.error(sorted(self.table)[0], "unknown key; allowed here: see README \"Bring your own pipeline\"")


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "a whole number", float: "a number", bool: "true or false", list: "a list",
             dict: "a table"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def load_declaration(folder: Path) -> PipelineDeclaration:
    """The declaration of the pipeline in `folder`; a DeclarationError names the file and the key."""
    file = folder / DECLARATION_FILE
    try:
        document = tomllib.loads(file.read_text())
    except FileNotFoundError:
        raise DeclarationError(f"{file}: missing; a pipeline folder declares its pipeline there") from None
    except tomllib.TOMLDecodeError as error:
        raise DeclarationError(f"{file}: not valid TOML ({error})") from None
    sections = {"pipeline", "schedule", "data", "evaluation", "metric", "metrics", "counts", "registry",
                "provenance", "form", "settings", "deploy", "scoring",
                "events", "data_quality"}
    unknown = sorted(set(document) - sections)
    if unknown:
        raise DeclarationError(f"{file}: [{unknown[0]}] is not a section this package knows; allowed: "
                               f"{', '.join(sorted(sections))}")
    key = folder.name
    if not _IDENTIFIER.match(key):
        raise DeclarationError(f"{file}: the folder name {key!r} must be a Python identifier (letters, digits, _)")

    pipeline = _Section(file, "pipeline", document.get("pipeline"))
    name = pipeline.matching("name", _NAME, "a SageMaker pipeline name: letters, digits and hyphens")
    description = pipeline.take("description", str)
    existing = pipeline.take("existing", bool, False)
    dag_id = pipeline.matching("dag_id", _DAG_ID, "letters, digits, _ . -", f"{key}_training")
    tags = pipeline.take("tags", list, [], allowed="a list of strings")
    if not all(isinstance(tag, str) and tag for tag in tags):
        raise pipeline.error("tags", f"{tags!r}: expected a list of strings")
    settings_variable = pipeline.matching("settings_variable", re.compile(r"^[A-Za-z0-9_.-]+$"),
                                          "an Airflow Variable key", f"sagemaker_pipelines_{key}_settings")
    pipeline.close()

    schedule = _Section(file, "schedule", document.get("schedule"))
    partitioning = schedule.take("partitioning", str, allowed="daily or none")
    if partitioning not in ("daily", "none"):  # hourly partitions: not yet (README)
        raise schedule.error("partitioning", f"{partitioning!r}: expected daily (one run per day of data) or none "
                                             "(runs only when triggered, on the whole prefix)")
    cron = first_day = None
    if partitioning == "daily":
        cron = schedule.take("cron", str, "0 0 * * *", allowed="a daily cron expression such as '0 0 * * *'")
        fields = cron.split()
        if len(fields) != 5 or fields[2:] != ["*", "*", "*"] or not all(f.isdigit() for f in fields[:2]):
            raise schedule.error("cron", f"{cron!r}: expected a daily cron expression such as '0 0 * * *'")
        first = schedule.take("first_day", (str, date), allowed="the first day of data, YYYY-MM-DD")
        try:
            first_day = first if isinstance(first, date) else date.fromisoformat(first)
        except ValueError:
            raise schedule.error("first_day", f"{first!r}: expected the first day of data, YYYY-MM-DD") from None
    schedule.close()

    data = _Section(file, "data", document.get("data"))
    data_prefix = data.matching("prefix", re.compile(r"^[A-Za-z0-9_.=-]+(/[A-Za-z0-9_.=-]+)*$"),
                                "an S3 key prefix such as raw-data (no leading or trailing /)")
    data_parameter = data.matching("parameter", _PARAMETER, "the pipeline parameter that takes the data's s3:// URL")
    data.close()

    evaluation = _Section(file, "evaluation", document.get("evaluation"))
    evaluation_step = evaluation.take("step", str)
    evaluation_output = evaluation.take("output", str)
    evaluation_report = evaluation.take("report", str, allowed="the report's file name in that output")
    evaluation.close()

    metric = _metric_rule(_Section(file, "metric", document.get("metric")))
    metrics = _paths(_Section(file, "metrics", document.get("metrics"), required=False))
    counts = _paths(_Section(file, "counts", document.get("counts"), required=False))
    clashing = sorted(({metric.name} | set(metrics)) & set(counts) | ({metric.name} & set(metrics)))
    if clashing:
        raise DeclarationError(f"{file}: [metrics] {clashing[0]}: named twice (in [metric], [metrics] or [counts])")

    registry = _Section(file, "registry", document.get("registry"))
    group = registry.matching("model_package_group", _NAME, "a model package group name: letters, digits, hyphens")
    register_step = registry.take("register_step", str)
    approval_parameter = registry.matching("approval_status_parameter", _PARAMETER, "a pipeline parameter name", None)
    registry.close()

    provenance_section = _Section(file, "provenance", document.get("provenance"), required=False)
    provenance = {name: provenance_section.matching(name, _PARAMETER, "a pipeline parameter name", None)
                  for name in PROVENANCE_FIELDS}
    provenance_section.close()

    settings = _settings(file, document.get("settings"), metric)
    deploy = None
    if "deploy" in document:
        section = _Section(file, "deploy", document["deploy"])
        deploy = DeploySpec(
            dag_id=section.matching("dag_id", _DAG_ID, "letters, digits, _ . -", f"{key}_deploy"),
            holdout=section.matching("holdout", re.compile(r"^[A-Za-z0-9_.=-]+(/[A-Za-z0-9_.=-]+)*$"),
                                     "a path such as test/test.csv, beside the evaluation output"))
        section.close()
        if metric.name not in SMOKE_TEST_METRICS:
            raise DeclarationError(f"{file}: [deploy]: the smoke test computes {', '.join(SMOKE_TEST_METRICS)}, not "
                                   f"the [metric] {metric.name!r}: name the metric as one of them, or drop [deploy]")
    scoring = _scoring(file, document["scoring"], key, partitioning, cron, provenance) if "scoring" in document \
        else None
    if scoring and (f"{scoring.output_prefix}/".startswith(f"{data_prefix}/")
                    or f"{data_prefix}/".startswith(f"{scoring.output_prefix}/")):
        raise DeclarationError(f"{file}: [scoring] output_prefix: {scoring.output_prefix!r} overlaps the data's prefix "
                               f"{data_prefix!r}: the scores would be read as data")
    events = _events(file, document["events"], key, partitioning) if "events" in document else None
    data_quality = _data_quality(file, document["data_quality"], key, partitioning, deploy, cron) \
        if "data_quality" in document else None
    if data_quality and data_quality.monitoring_dag_id and (existing or not scoring):
        raise DeclarationError(
            f"{file}: [data_quality] monitor_endpoint: the check of the endpoint's requests needs the model's input "
            "columns ([scoring] features) and the analyzer's image from the compiled definition (not existing = "
            "true): declare them, or set monitor_endpoint = false")
    if existing and settings:
        raise DeclarationError(f"{file}: [settings.{settings[0].key}]: a pipeline that exists already (existing = "
                               "true) keeps its own parameter defaults; the DAG sends values through [form] instead")
    return PipelineDeclaration(
        folder=folder, name=name, description=description, existing=existing, dag_id=dag_id,
        tags=tuple(tags), settings_variable=settings_variable, partitioning=partitioning, cron=cron,
        first_day=first_day, data_prefix=data_prefix, data_parameter=data_parameter, evaluation_step=evaluation_step,
        evaluation_output=evaluation_output, evaluation_report=evaluation_report, metric=metric, metrics=metrics,
        counts=counts, model_package_group=group, register_step=register_step,
        approval_status_parameter=approval_parameter,
        provenance={name: parameter for name, parameter in provenance.items() if parameter},
        form=_form(file, document.get("form")), settings=settings, deploy=deploy, scoring=scoring,
        events=events, data_quality=data_quality,
    )


_DAILY_CRON = "a daily cron expression such as '0 2 * * *'"
_COLUMN = re.compile(r"^[^,\"\r\n]+$")  # a CSV header's name


def _daily_cron(section: _Section, key: str, training_cron: str | None, *, hours_after: int) -> str:
    """A daily cron expression under `key`, by default `hours_after` hours after training's."""
    minute, hour = (training_cron or "0 0 * * *").split()[:2]
    cron = section.take(key, str, f"{minute} {(int(hour) + hours_after) % 24} * * *", allowed=_DAILY_CRON)
    fields = cron.split()
    if len(fields) != 5 or fields[2:] != ["*", "*", "*"] or not all(f.isdigit() for f in fields[:2]):
        raise section.error(key, f"{cron!r}: expected {_DAILY_CRON}")
    return cron


def _scoring(file: Path, table: Any, key: str, partitioning: str, training_cron: str | None,
             provenance: Mapping[str, str | None]) -> ScoringSpec:
    section = _Section(file, "scoring", table)
    if partitioning != "daily":
        raise DeclarationError(f"{file}: [scoring]: scoring runs once per data day: [schedule] partitioning must be "
                               "daily")
    if not provenance.get("data_day"):
        raise DeclarationError(f"{file}: [scoring]: the model live on a day is found by the day each package "
                               "learned from: declare [provenance] data_day")
    cron = _daily_cron(section, "cron", training_cron, hours_after=2)
    features = section.take("features", list, allowed="the model's input columns in training order, such as "
                                                      "[\"age\", \"income\"]")
    if not features or not all(isinstance(f, str) and _COLUMN.match(f) for f in features) \
            or len(set(features)) != len(features):
        raise section.error("features", f"{features!r}: expected the model's input columns (distinct CSV column "
                                        "names) in training order")
    id_column = section.take("id_column", str, None, allowed="a CSV column name")
    if id_column is not None and (not _COLUMN.match(id_column) or id_column in features):
        raise section.error("id_column", f"{id_column!r}: expected a CSV column name that is not a feature")
    threshold = section.take("positive_threshold", (int, float), None, allowed="a score, such as 0.5")
    spec = ScoringSpec(
        dag_id=section.matching("dag_id", _DAG_ID, "letters, digits, _ . -", f"{key}_scoring"),
        cron=cron, features=tuple(features), id_column=id_column,
        positive_threshold=None if threshold is None else float(threshold),
        output_prefix=section.matching("output_prefix", re.compile(r"^[A-Za-z0-9_.=-]+(/[A-Za-z0-9_.=-]+)*$"),
                                       "an S3 key prefix such as scores (no leading or trailing /)", "scores"))
    section.close()
    return spec


def _events(file: Path, table: Any, key: str, partitioning: str) -> EventsSpec:
    section = _Section(file, "events", table)
    if partitioning != "daily":
        raise DeclarationError(f"{file}: [events]: a notification names the partition it trains on: [schedule] "
                               "partitioning must be daily")
    spec = EventsSpec(
        dag_id=section.matching("dag_id", _DAG_ID, "letters, digits, _ . -", f"{key}_on_new_data"),
        queue=section.matching("queue", re.compile(r"^[A-Za-z0-9_-]{1,80}$"),
                               "an SQS queue's name (not its URL): 1-80 letters, digits, - and _ (a standard queue)"))
    section.close()
    return spec


def _data_quality(file: Path, table: Any, key: str, partitioning: str, deploy: DeploySpec | None,
                  training_cron: str | None) -> DataQualitySpec:
    section = _Section(file, "data_quality", table)

    def parameter(name: str, default: str) -> str:
        return section.matching(name, _PARAMETER, "a pipeline parameter name", default)

    monitor = section.take("monitor_endpoint", bool, deploy is not None, allowed="true or false")
    if monitor and deploy is None:
        raise section.error("monitor_endpoint", "true: the endpoint's requests are captured by the deploy DAG: "
                                                "declare [deploy] too, or set it false")
    if monitor and partitioning != "daily":
        raise section.error("monitor_endpoint", "true: the endpoint is checked once per day: [schedule] "
                                                "partitioning must be daily")
    cron = _daily_cron(section, "monitoring_cron", training_cron, hours_after=1)
    spec = DataQualitySpec(
        step=section.take("step", str, allowed="the pipeline's QualityCheck step (DATA_QUALITY)"),
        skip_check_parameter=parameter("skip_check_parameter", "SkipDataQualityCheck"),
        register_baseline_parameter=parameter("register_baseline_parameter", "RegisterDataQualityBaseline"),
        fail_on_violation_parameter=parameter("fail_on_violation_parameter", "FailOnDataQualityViolation"),
        baseline_statistics_parameter=parameter("baseline_statistics_parameter", "DataQualityBaselineStatistics"),
        baseline_constraints_parameter=parameter("baseline_constraints_parameter", "DataQualityBaselineConstraints"),
        monitoring_dag_id=section.matching("monitoring_dag_id", _DAG_ID, "letters, digits, _ . -",
                                           f"{key}_data_monitoring") if monitor else None,
        monitoring_cron=cron)
    section.close()
    if len(set(spec.parameters)) != len(spec.parameters):
        raise DeclarationError(f"{file}: [data_quality]: its five parameters must have distinct names; got "
                               f"{', '.join(spec.parameters)}")
    return spec


def _metric_rule(section: _Section) -> MetricRule:
    name = section.matching("name", _IDENTIFIER, "the metric's name, such as auc or rmse")
    path = section.path("path")
    better = section.take("better", str, allowed="higher or lower")
    if better not in ("higher", "lower"):
        raise section.error("better", f"{better!r}: expected higher (AUC, accuracy) or lower (RMSE, loss)")
    bounds = section.take("range", list, None, allowed="[lowest, highest], such as [0, 1]")
    if bounds is not None:
        if len(bounds) != 2 or not all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in bounds) \
                or bounds[0] >= bounds[1]:
            raise section.error("range", f"{bounds!r}: expected [lowest, highest], such as [0, 1]")
        bounds = (float(bounds[0]), float(bounds[1]))
    threshold = float(section.take("threshold", (int, float)))
    margin = float(section.take("margin", (int, float), 0.0))
    if margin < 0:
        raise section.error("margin", f"{margin!r}: expected 0 or more")
    if bounds and not bounds[0] <= threshold <= bounds[1]:
        raise section.error("threshold", f"{threshold!r}: expected a value within the range {list(bounds)}")
    parameter = section.matching("parameter", _PARAMETER, "a pipeline parameter name", None)
    gate_step = section.take("gate_step", str, None)
    section.close()
    return MetricRule(name=name, path=path, better=better, threshold=threshold, margin=margin,  # type: ignore[arg-type]
                      range=bounds, parameter=parameter, gate_step=gate_step)


def _paths(section: _Section) -> dict[str, tuple[str, ...]]:
    found = {}
    for key in list(section.table):
        if not _IDENTIFIER.match(key):
            raise section.error(key, "expected a metric name: letters, digits, _")
        found[key] = section.path(key)
    return found  # type: ignore[return-value]


def _form(file: Path, table: Any) -> tuple[FormParameter, ...]:
    if table is None:
        return ()
    if not isinstance(table, dict):
        raise DeclarationError(f"{file}: [form] is not a table")
    parameters = []
    for name, entry in table.items():
        if not _PARAMETER.match(name):
            raise DeclarationError(f"{file}: [form.{name}]: expected a pipeline parameter name")
        section = _Section(file, f"form.{name}", entry)
        parameter = FormParameter(name=name, title=section.take("title", str), default=section.take("default", str),
                                  pattern=section.take("pattern", str, None),
                                  description=section.take("description", str, ""))
        section.close()
        _check_pattern(section, parameter.pattern, parameter.default)
        parameters.append(parameter)
    return tuple(parameters)


def _settings(file: Path, table: Any, metric: MetricRule) -> tuple[SettingParameter, ...]:
    if table is None:
        return ()
    if not isinstance(table, dict):
        raise DeclarationError(f"{file}: [settings] is not a table")
    found = []
    for key, entry in table.items():
        if not _IDENTIFIER.match(key):
            raise DeclarationError(f"{file}: [settings.{key}]: expected a settings key: letters, digits, _")
        section = _Section(file, f"settings.{key}", entry)
        parameter = section.matching("parameter", _PARAMETER, "a pipeline parameter name")
        # The gate's parameter defaults to the metric's threshold: one default, declared once.
        gate = parameter == metric.parameter
        default = section.take("default", (str, int, float, bool), metric.threshold if gate else ...)
        pattern = section.take("pattern", str, None)
        allowed = section.take("allowed", str, None)
        section.close()
        _check_pattern(section, pattern, default)
        if gate and metric.range and not (isinstance(default, (int, float)) and not isinstance(default, bool)
                                          and metric.range[0] <= default <= metric.range[1]):
            raise section.error("default", f"{default!r}: expected a {metric.name} within {list(metric.range)}")
        found.append(SettingParameter(key=key, parameter=parameter, default=default, pattern=pattern, allowed=allowed))
    return tuple(found)


def _check_pattern(section: _Section, pattern: str | None, default: object) -> None:
    """A declared pattern is a regular expression its own default matches."""
    if pattern is None:
        return
    try:
        matched = re.match(pattern, str(default))
    except re.error as error:
        raise section.error("pattern", f"{pattern!r} is not a regular expression ({error})") from None
    if not matched:
        raise section.error("default", f"{default!r} does not match its pattern {pattern!r}")
