"""SageMaker Model Monitor's data-quality analyzer (`sagemaker-model-monitor-analyzer`), run in a processing job's sandbox.

Configured by environment variables only (analyzer_settings.py), it writes to `output_path` the
files the real analyzer writes, in its formats (jackson_json.py):
- a baseline suggestion (DefaultModelMonitor.suggest_baseline, QualityCheckStep): statistics.json
  and constraints.json of the dataset;
- a check (a monitoring execution: `baseline_constraints` and/or `baseline_statistics` given):
  the same two files for the current dataset, and constraint_violations.json when there are
  violations. AWS's samples read a missing violations file as "no violations"; the SDK returns
  None for it.
Either way the job ends Completed, as AWS's does: violations are a result, not a failure. The
outcome goes to /opt/ml/output/message, which SageMaker shows as the job's ExitMessage and from
which a monitoring execution takes its status ("CompletedWithViolations: ..." or "Completed: ...",
the convention of AWS's Model Monitor container samples). A QualityCheckStep decides itself, from
the violations file, whether to fail (its FailOnViolation). CloudWatch metrics are not published
(only monitoring schedules publish them, and the endpoint has none).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from analyzer_constraints import suggest_constraints
from analyzer_dataset import read_dataset
from analyzer_settings import analyzer_settings
from analyzer_statistics import dataset_statistics
from analyzer_violations import find_violations
from container_run import ClientError, run_container
from jackson_json import dumps


def analyze(root: Path) -> None:
    settings = analyzer_settings(os.environ)
    dataset = read_dataset(settings.dataset_source, settings.dataset_format)
    print(f"Dataset {settings.dataset_source}: {dataset.item_count} record(s), {len(dataset.columns)} column(s)", flush=True)
    statistics = dataset_statistics(dataset)
    settings.output_path.mkdir(parents=True, exist_ok=True)
    _write(settings.output_path / "statistics.json", statistics)
    _write(settings.output_path / "constraints.json", suggest_constraints(statistics, settings.categorical_drift_method))
    if settings.publish_cloudwatch_metrics:
        print("publish_cloudwatch_metrics is Enabled: the local endpoint publishes no CloudWatch metrics", flush=True)
    if not settings.checks:
        print("Baseline statistics and constraints written", flush=True)
        return
    violations = find_violations(dataset, statistics, _read(settings.baseline_constraints, "baseline_constraints"),
                                 _read(settings.baseline_statistics, "baseline_statistics"))
    if violations:
        _write(settings.output_path / "constraint_violations.json", {"violations": violations})
        message = f"CompletedWithViolations: Job completed successfully with {len(violations)} violations."
    else:
        message = "Completed: Job completed successfully with no violations."
    for violation in violations:
        print(f"{violation['constraint_check_type']} {violation['feature_name']}: {violation['description']}", flush=True)
    (root / "output").mkdir(parents=True, exist_ok=True)
    (root / "output/message").write_text(message, encoding="utf-8")
    print(message, flush=True)


def _read(path: Path | None, variable: str) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise ClientError(f"{variable} {path} is not valid JSON: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("features"), list):
        raise ClientError(f"{variable} {path} has no \"features\" list: it is not a Model Monitor "
                          f"{'constraints' if variable == 'baseline_constraints' else 'statistics'} file")
    return document


def _write(path: Path, document: dict[str, Any]) -> None:
    path.write_text(dumps(document), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(run_container(analyze))
