"""Model Monitor's data-quality analyzer image runs as a processing job, writing AWS's files in AWS's formats.

The baseline job is the one SDK v3's DefaultModelMonitor.suggest_baseline creates; the check jobs are
what a monitoring execution runs: the same image and environment (the SDK's _generate_env_map) plus
`baseline_constraints` and `baseline_statistics` pointing at the baseline's files, given as inputs.
Expected numbers are computed here from the rows, not by the endpoint's code.
"""

from __future__ import annotations

import json
import math
import re
import statistics
import time
from collections import Counter
from typing import Any

import numpy as np
import pytest

from tests.support.pipelines import ROLE, unique

ROWS = 400
MISSING_INCOME_EVERY = 50  # income is empty on every 50th row: 8 of 400
CSV_FORMAT = {"csv": {"header": True, "output_columns_position": "START"}}
DATASET_PATH = "/opt/ml/processing/input/baseline_dataset_input"
OUTPUT_PATH = "/opt/ml/processing/output"
CONSTRAINTS_PATH = "/opt/ml/processing/baseline/constraints"
STATISTICS_PATH = "/opt/ml/processing/baseline/stats"


def _rows() -> list[dict[str, str]]:
    rng = np.random.default_rng(7)
    ages = rng.integers(18, 80, size=ROWS)
    incomes = rng.normal(50_000, 8_000, size=ROWS)
    segments = rng.choice(["retail", "business", "public"], size=ROWS, p=[0.6, 0.3, 0.1])
    return [{"age": str(int(age)), "income": "" if index % MISSING_INCOME_EVERY == 0 else f"{income:.2f}",
             "segment": str(segment)}
            for index, (age, income, segment) in enumerate(zip(ages, incomes, segments, strict=True))]


def _csv(rows: list[dict[str, str]]) -> bytes:
    names = list(rows[0])
    return ("\n".join([",".join(names), *(",".join(row[name] for name in names) for row in rows)]) + "\n").encode()


def _wait(sagemaker: Any, name: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = sagemaker.describe_processing_job(ProcessingJobName=name)
        if job["ProcessingJobStatus"] in ("Completed", "Failed", "Stopped"):
            return job
        if time.monotonic() > deadline:
            raise TimeoutError(f"processing job {name} still {job['ProcessingJobStatus']} after {timeout} s")
        time.sleep(0.2)


def _output(s3: Any, uri: str, file_name: str) -> str | None:
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    try:
        return s3.get_object(Bucket=bucket, Key=f"{prefix.rstrip('/')}/{file_name}")["Body"].read().decode()
    except s3.exceptions.NoSuchKey:
        return None


@pytest.fixture(scope="module")
def monitor(endpoint_session: Any, bucket: str) -> Any:
    """SDK v3's DefaultModelMonitor, every call of it reaching the endpoint."""
    from devtools.pipeline_compiler.sdk_session import disable_sdk_side_effects

    disable_sdk_side_effects(endpoint_session.region_name)
    from sagemaker.core.helper.session_helper import Session
    from sagemaker.core.model_monitor import DefaultModelMonitor

    session = Session(boto_session=endpoint_session, sagemaker_client=endpoint_session.client("sagemaker"),
                      default_bucket=bucket)
    return DefaultModelMonitor(role=ROLE, instance_count=1, instance_type="ml.m5.xlarge", sagemaker_session=session)


@pytest.fixture(scope="module")
def baseline(monitor: Any, sagemaker: Any, s3: Any, bucket: str) -> dict[str, Any]:
    """The baseline suggest_baseline makes of the rows: the job, its files' text and S3 URIs."""
    from sagemaker.core.model_monitor import DatasetFormat

    rows = _rows()
    key = f"{unique('monitor')}/train/data.csv"
    s3.put_object(Bucket=bucket, Key=key, Body=_csv(rows))
    monitor.suggest_baseline(baseline_dataset=f"s3://{bucket}/{key}", dataset_format=DatasetFormat.csv(header=True),
                             wait=False, logs=False)
    job = _wait(sagemaker, monitor.latest_baselining_job_name)
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    output = job["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
    return {"rows": rows, "job": job, "output": output,
            "statistics": _output(s3, output, "statistics.json"), "constraints": _output(s3, output, "constraints.json")}


def _check(monitor: Any, sagemaker: Any, s3: Any, bucket: str, baseline: dict[str, Any],
           rows: list[dict[str, str]]) -> tuple[dict[str, Any], list[dict[str, str]] | None, dict[str, Any]]:
    """Run a check of `rows` against the baseline; its job, its violations (None: no file), its statistics."""
    job, output = _analyzer_job(monitor, sagemaker, s3, bucket, rows, baseline["output"])
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    violations = _output(s3, output, "constraint_violations.json")
    current = json.loads(_output(s3, output, "statistics.json") or "null")
    return job, json.loads(violations)["violations"] if violations is not None else None, current


def _analyzer_job(monitor: Any, sagemaker: Any, s3: Any, bucket: str, rows: list[dict[str, str]],
                  baseline_output: str | None = None, **environment_changes: str) -> tuple[dict[str, Any], str]:
    """A processing job of the analyzer image on `rows`, with the environment the SDK builds (plus the
    baseline files a monitoring execution gives it); the ended job and its output URI."""
    from sagemaker.core.model_monitor import DatasetFormat, ModelMonitor

    prefix = unique("analyzer")
    s3.put_object(Bucket=bucket, Key=f"{prefix}/data/data.csv", Body=_csv(rows))
    environment = ModelMonitor._generate_env_map(
        env=None, output_path=OUTPUT_PATH, enable_cloudwatch_metrics=False,
        dataset_format=DatasetFormat.csv(header=True), dataset_source_container_path=DATASET_PATH)
    inputs = [_input("dataset", f"s3://{bucket}/{prefix}/data", DATASET_PATH)]
    if baseline_output:
        environment.update(baseline_constraints=f"{CONSTRAINTS_PATH}/constraints.json",
                           baseline_statistics=f"{STATISTICS_PATH}/statistics.json")
        inputs += [_input("constraints", f"{baseline_output}/constraints.json", CONSTRAINTS_PATH),
                   _input("statistics", f"{baseline_output}/statistics.json", STATISTICS_PATH)]
    environment.update(environment_changes)
    name = unique("analyzer-job")
    output = f"s3://{bucket}/{prefix}/results"
    sagemaker.create_processing_job(
        ProcessingJobName=name, RoleArn=ROLE, Environment=environment, ProcessingInputs=inputs,
        AppSpecification={"ImageUri": monitor.image_uri},
        ProcessingResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 30}},
        ProcessingOutputConfig={"Outputs": [{"OutputName": "monitoring_output", "S3Output": {
            "S3Uri": output, "LocalPath": OUTPUT_PATH, "S3UploadMode": "EndOfJob"}}]},
        StoppingCondition={"MaxRuntimeInSeconds": 600},
    )
    return _wait(sagemaker, name), output


def _input(name: str, uri: str, local_path: str) -> dict[str, Any]:
    return {"InputName": name, "S3Input": {"S3Uri": uri, "LocalPath": local_path, "S3DataType": "S3Prefix",
                                           "S3InputMode": "File", "S3DataDistributionType": "FullyReplicated"}}


def _feature(document: dict[str, Any], name: str) -> dict[str, Any]:
    return next(feature for feature in document["features"] if feature["name"] == name)


def _found(violations: list[dict[str, str]] | None) -> set[tuple[str, str]]:
    return {(violation["feature_name"], violation["constraint_check_type"]) for violation in violations or []}


def test_a_baseline_suggestion_writes_the_datasets_statistics_and_constraints_as_aws_shapes_them(baseline, monitor) -> None:
    rows = baseline["rows"]
    ages = [float(row["age"]) for row in rows]
    incomes = [float(row["income"]) for row in rows if row["income"]]
    stats = json.loads(baseline["statistics"])
    assert stats["version"] == 0.0 and stats["dataset"] == {"item_count": ROWS}
    assert [(feature["name"], feature["inferred_type"]) for feature in stats["features"]] == [
        ("age", "Integral"), ("income", "Fractional"), ("segment", "String")]

    age = _feature(stats, "age")["numerical_statistics"]
    assert age["common"] == {"num_present": ROWS, "num_missing": 0}
    assert age["mean"] == pytest.approx(statistics.fmean(ages)) and age["sum"] == pytest.approx(math.fsum(ages))
    assert (age["min"], age["max"]) == (min(ages), max(ages))
    assert age["std_dev"] == pytest.approx(statistics.pstdev(ages))
    kll = age["distribution"]["kll"]
    assert kll["sketch"]["parameters"] == {"c": 0.64, "k": 2048.0}
    assert kll["sketch"]["data"] == [ages]  # fewer rows than the sketch's first level holds: all of them, in order
    assert len(kll["buckets"]) == 10 and sum(bucket["count"] for bucket in kll["buckets"]) == ROWS
    assert (kll["buckets"][0]["lower_bound"], kll["buckets"][-1]["upper_bound"]) == (min(ages), max(ages))

    income = _feature(stats, "income")["numerical_statistics"]
    assert income["common"] == {"num_present": ROWS - ROWS // MISSING_INCOME_EVERY, "num_missing": ROWS // MISSING_INCOME_EVERY}
    assert income["mean"] == pytest.approx(statistics.fmean(incomes))
    segment = _feature(stats, "segment")["string_statistics"]
    counts = Counter(row["segment"] for row in rows)
    assert segment["distinct_count"] == 3.0
    assert {bucket["value"]: bucket["count"] for bucket in segment["distribution"]["categorical"]["buckets"]} == counts

    constraints = json.loads(baseline["constraints"])
    assert _feature(constraints, "age") == {"name": "age", "inferred_type": "Integral", "completeness": 1.0,
                                            "num_constraints": {"is_non_negative": True}}
    assert _feature(constraints, "income")["completeness"] == (ROWS - ROWS // MISSING_INCOME_EVERY) / ROWS
    assert _feature(constraints, "segment")["string_constraints"]["domains"] == [value for value, _ in counts.most_common()]
    assert constraints["monitoring_config"] == {
        "evaluate_constraints": "Enabled", "emit_metrics": "Enabled", "datatype_check_threshold": 1.0,
        "domain_content_threshold": 1.0, "distribution_constraints": {
            "perform_comparison": "Enabled", "comparison_threshold": 0.1, "comparison_method": "Robust",
            "categorical_comparison_threshold": 0.1, "categorical_drift_method": "LInfinity"}}
    # Written as the analyzer's Jackson writer writes them, and read back by the SDK's own classes.
    assert baseline["statistics"].startswith('{\n  "version" : 0.0,\n  "dataset" : {\n    "item_count" : 400\n  },')
    assert '"features" : [ {\n    "name" : "age",' in baseline["constraints"]
    assert monitor.latest_baselining_job.baseline_statistics().body_dict == stats
    assert monitor.latest_baselining_job.suggested_constraints().body_dict == constraints


def test_checking_the_baseline_data_against_its_own_baseline_completes_without_violations(
        monitor, sagemaker, s3, bucket, baseline) -> None:
    job, violations, current = _check(monitor, sagemaker, s3, bucket, baseline, baseline["rows"])
    assert violations is None  # no constraint_violations.json, as AWS's analyzer leaves none
    assert job["ExitMessage"] == "Completed: Job completed successfully with no violations."
    assert current == json.loads(baseline["statistics"])


def test_a_drifted_numeric_feature_is_a_baseline_drift_check_naming_it(monitor, sagemaker, s3, bucket, baseline) -> None:
    drifted = [{**row, "income": f"{float(row['income']) * 1.3 + 4_000:.2f}" if row["income"] else ""}
               for row in baseline["rows"]]
    job, violations, _ = _check(monitor, sagemaker, s3, bucket, baseline, drifted)
    assert _found(violations) == {("income", "baseline_drift_check")}
    assert job["ProcessingJobStatus"] == "Completed"
    assert job["ExitMessage"] == "CompletedWithViolations: Job completed successfully with 1 violations."
    matched = re.fullmatch(r"Baseline drift distance: (\S+) exceeds threshold: 0\.1", violations[0]["description"])
    assert matched, violations[0]["description"]
    # linf_robust: the two-sample Kolmogorov-Smirnov statistic less 1.8 * sqrt((n + m) / (n * m)).
    before = np.sort([float(row["income"]) for row in baseline["rows"] if row["income"]])
    after = np.sort([float(row["income"]) for row in drifted if row["income"]])
    points = np.union1d(before, after)
    ks = np.max(np.abs(np.searchsorted(before, points, "right") / len(before) - np.searchsorted(after, points, "right") / len(after)))
    n, m = len(before), len(after)
    assert float(matched.group(1)) == pytest.approx(ks - 1.8 * math.sqrt((n + m) / (n * m)))


def test_a_missing_column_is_a_missing_column_check_naming_it(monitor, sagemaker, s3, bucket, baseline) -> None:
    without_segment = [{"age": row["age"], "income": row["income"]} for row in baseline["rows"]]
    job, violations, current = _check(monitor, sagemaker, s3, bucket, baseline, without_segment)
    assert _found(violations) == {("segment", "missing_column_check")}
    assert "Number of columns in current dataset: 2, Number of columns in baseline constraints: 3" in violations[0]["description"]
    assert [feature["name"] for feature in current["features"]] == ["age", "income"]
    assert job["ExitMessage"].startswith("CompletedWithViolations:")


def test_a_string_in_an_integer_column_is_a_data_type_check_naming_it(monitor, sagemaker, s3, bucket, baseline) -> None:
    rows = [dict(row) for row in baseline["rows"]]
    rows[5]["age"] = "unknown"
    _, violations, current = _check(monitor, sagemaker, s3, bucket, baseline, rows)
    assert violations == [{
        "feature_name": "age", "constraint_check_type": "data_type_check",
        "description": "Data type match requirement is not met. Expected data type: Integral, Expected match: 100.0%. "
                       "Observed: Only 99.75% of data is Integral.",  # 399 of 400
    }]
    assert _feature(current, "age")["inferred_type"] == "String"


def test_an_unseen_category_is_a_categorical_values_check_naming_it(monitor, sagemaker, s3, bucket, baseline) -> None:
    rows = [{**row, "segment": "government" if index < 4 else row["segment"]} for index, row in enumerate(baseline["rows"])]
    _, violations, _ = _check(monitor, sagemaker, s3, bucket, baseline, rows)
    assert violations == [{"feature_name": "segment", "constraint_check_type": "categorical_values_check",
                           "description": "Value: 0.99 does not meet the constraint requirement!"}]  # 396 of 400 known


def test_a_dataset_format_the_local_analyzer_cannot_read_fails_the_job_naming_it(monitor, sagemaker, s3, bucket, baseline) -> None:
    capture_format = json.dumps({"sagemakerCaptureJson": {"captureIndexNames": ["endpointInput"]}})
    job, _ = _analyzer_job(monitor, sagemaker, s3, bucket, baseline["rows"], dataset_format=capture_format)
    assert job["ProcessingJobStatus"] == "Failed"
    assert "ClientError: dataset_format 'sagemakerCaptureJson' is not emulated by the local endpoint" in job["FailureReason"]
