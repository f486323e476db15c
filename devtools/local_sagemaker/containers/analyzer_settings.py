"""The analyzer's configuration: the environment variables SageMaker and the SDK give its job.

The SDK builds them in ModelMonitor._generate_env_map (sagemaker/core/model_monitor/
model_monitoring.py): `dataset_format` (JSON: {"csv": {"header": true, "output_columns_position":
"START"}}, {"json": {"lines": true}}, {"sagemakerCaptureJson": ...}, {"parquet": {}}),
`dataset_source` (the folder of the dataset), `output_path`, `publish_cloudwatch_metrics`
(Enabled|Disabled), `categorical_drift_method`, `analysis_type`, `record_preprocessor_script`,
`post_analytics_processor_script`. A monitoring execution adds `baseline_constraints` and
`baseline_statistics`, the local paths of its BaselineConfig files ("Container Contract Inputs").
What the local analyzer cannot do is a ClientError naming the variable, never a silent skip.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from container_run import ClientError

CATEGORICAL_DRIFT_METHODS = ("LInfinity", "ChiSquared")  # the SDK's DataQualityDistributionConstraints
FORMATS = ("csv", "json")
NOT_EMULATED_FORMATS = ("sagemakerCaptureJson", "parquet")


@dataclass(frozen=True)
class DatasetFormat:
    kind: str  # csv | json
    header: bool = True  # csv
    lines: bool = True  # json


@dataclass(frozen=True)
class AnalyzerSettings:
    dataset_format: DatasetFormat
    dataset_source: Path
    output_path: Path
    publish_cloudwatch_metrics: bool
    categorical_drift_method: str | None
    baseline_constraints: Path | None
    baseline_statistics: Path | None

    @property
    def checks(self) -> bool:
        """A monitoring run (a baseline to check against), not a baseline suggestion."""
        return self.baseline_constraints is not None or self.baseline_statistics is not None


def analyzer_settings(environment: Mapping[str, str]) -> AnalyzerSettings:
    analysis = environment.get("analysis_type", "DATA_QUALITY")
    if analysis != "DATA_QUALITY":
        raise ClientError(f"analysis_type {analysis!r} is not emulated by the local endpoint: its analyzer runs "
                          "data-quality analysis only (no analysis_type, or DATA_QUALITY)")
    for script in ("record_preprocessor_script", "post_analytics_processor_script"):
        if environment.get(script):
            raise ClientError(f"{script} ({environment[script]}) is not emulated by the local endpoint: "
                              "its analyzer reads the dataset as it is and runs no user scripts")
    method = environment.get("categorical_drift_method") or None
    if method is not None and method not in CATEGORICAL_DRIFT_METHODS:
        raise ClientError(f"categorical_drift_method {method!r} is not valid: use one of {', '.join(CATEGORICAL_DRIFT_METHODS)}")
    return AnalyzerSettings(
        dataset_format=_dataset_format(_required(environment, "dataset_format")),
        dataset_source=Path(_required(environment, "dataset_source")),
        output_path=Path(_required(environment, "output_path")),
        publish_cloudwatch_metrics=environment.get("publish_cloudwatch_metrics", "Disabled") == "Enabled",
        categorical_drift_method=method,
        baseline_constraints=_optional_path(environment, "baseline_constraints"),
        baseline_statistics=_optional_path(environment, "baseline_statistics"),
    )


def _dataset_format(text: str) -> DatasetFormat:
    try:
        document = json.loads(text)
    except ValueError:
        raise ClientError(f"dataset_format is not JSON: {text[:200]!r}") from None
    if not isinstance(document, dict) or len(document) != 1:
        raise ClientError(f"dataset_format must name one format ({', '.join(FORMATS)}), e.g. "
                          f'{{"csv": {{"header": true}}}}; got {text[:200]}')
    kind, options = next(iter(document.items()))
    options = options if isinstance(options, dict) else {}
    if kind in NOT_EMULATED_FORMATS:
        raise ClientError(f"dataset_format {kind!r} is not emulated by the local endpoint: its analyzer reads "
                          f"{' and '.join(FORMATS)} datasets")
    if kind == "csv":
        return DatasetFormat("csv", header=_flag(options.get("header", True), "dataset_format csv.header"))
    if kind == "json":
        return DatasetFormat("json", lines=_flag(options.get("lines", options.get("line", True)), "dataset_format json.lines"))
    raise ClientError(f"dataset_format {kind!r} is not a dataset format: use one of "
                      f"{', '.join(FORMATS + NOT_EMULATED_FORMATS)}")


def _flag(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "false"):
        return str(value).lower() == "true"
    raise ClientError(f"{field} must be true or false, got {value!r}")


def _required(environment: Mapping[str, str], name: str) -> str:
    value = environment.get(name)
    if not value:
        raise ClientError(f"Environment variable {name} is not set: the analyzer needs it (the SDK's "
                          "DefaultModelMonitor and QualityCheckStep set dataset_format, dataset_source and output_path)")
    return value


def _optional_path(environment: Mapping[str, str], name: str) -> Path | None:
    value = environment.get(name)
    if not value:
        return None
    path = Path(value)
    if not path.is_file():
        raise ClientError(f"{name} {value} is not a file in the container: give the job a ProcessingInput "
                          "that puts the baseline file there")
    return path
