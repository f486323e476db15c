"""Hyperparameter tuning jobs on the endpoint: real training jobs per trial, each strategy, AWS's refusals, a stop."""

from __future__ import annotations

import io
import re
import sys
import tarfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.pipelines import ROLE, SKLEARN_IMAGE, XGBOOST_IMAGE, unique

from .test_standalone_jobs import _csv

TERMINAL = ("Completed", "Failed", "Stopped")
# A script-mode trial: its score peaks at x = 0.3 (and with the "wide" category), printed for MetricDefinitions.
SCORE_SCRIPT = """
import json, math, time
hp = json.load(open('/opt/ml/input/config/hyperparameters.json'))
x = float(hp['x'])
bonus = {'wide': 0.5, 'narrow': 0.0}[hp.get('shape', 'narrow')]
time.sleep(float(hp.get('sleep', '0')))
print(f"epoch 1 score={-10.0:.4f}")
print(f"epoch 2 score={-(x - 0.3) ** 2 + bonus:.6f}")
"""


def tuning_name(prefix: str = "tune") -> str:
    return unique(prefix)[:32].rstrip("-")


def wait_tuning(sagemaker: Any, name: str, timeout: float = 120,
                until: Callable[[dict[str, Any]], bool] | None = None) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        description = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
        if (until or (lambda d: d["HyperParameterTuningJobStatus"] in TERMINAL))(description):
            return description
        if time.monotonic() > deadline:
            raise TimeoutError(f"tuning job {name} still {description['HyperParameterTuningJobStatus']} after {timeout} s")
        time.sleep(0.3)


def trials(sagemaker: Any, name: str) -> list[dict[str, Any]]:
    pages = sagemaker.get_paginator("list_training_jobs_for_hyper_parameter_tuning_job").paginate(
        HyperParameterTuningJobName=name, SortBy="CreationTime", SortOrder="Ascending")
    return [summary for page in pages for summary in page["TrainingJobSummaries"]]


@pytest.fixture(scope="module")
def xgboost_data(s3, bucket) -> str:
    prefix = unique("tuning-data")
    s3.put_object(Bucket=bucket, Key=f"{prefix}/train/train.csv", Body=_csv(200, 11))
    s3.put_object(Bucket=bucket, Key=f"{prefix}/validation/validation.csv", Body=_csv(80, 12))
    return prefix


@pytest.fixture(scope="module")
def score_code(s3, bucket) -> str:
    return _upload_score_code(s3, bucket)


def _upload_score_code(s3: Any, bucket: str) -> str:
    """A script-mode sourcedir.tar.gz holding SCORE_SCRIPT as score.py; its S3 URI."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        body = SCORE_SCRIPT.encode()
        member = tarfile.TarInfo("score.py")
        member.size = len(body)
        archive.addfile(member, io.BytesIO(body))
    key = f"{unique('tuning-code')}/sourcedir.tar.gz"
    s3.put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())
    return f"s3://{bucket}/{key}"


def xgboost_tuning(bucket: str, prefix: str, name: str, strategy: str = "Random", maximum: int | None = 6,
                   parallel: int = 2, ranges: dict[str, Any] | None = None, metric: str = "validation:auc",
                   objective_type: str = "Maximize") -> dict[str, Any]:
    limits: dict[str, int] = {"MaxParallelTrainingJobs": parallel}
    if maximum is not None:
        limits["MaxNumberOfTrainingJobs"] = maximum
    channels = [{"ChannelName": channel, "ContentType": "text/csv", "DataSource": {"S3DataSource": {
        "S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/{prefix}/{channel}", "S3DataDistributionType": "FullyReplicated"}}}
        for channel in ("train", "validation")]
    return {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobConfig": {
            "Strategy": strategy,
            "HyperParameterTuningJobObjective": {"Type": objective_type, "MetricName": metric},
            "ResourceLimits": limits,
            "ParameterRanges": ranges if ranges is not None else {
                "IntegerParameterRanges": [{"Name": "max_depth", "MinValue": "1", "MaxValue": "6", "ScalingType": "Linear"}],
                "ContinuousParameterRanges": [{"Name": "eta", "MinValue": "0.05", "MaxValue": "0.5",
                                               "ScalingType": "Logarithmic"}],
            },
            "TrainingJobEarlyStoppingType": "Off",
        },
        "TrainingJobDefinition": {
            "StaticHyperParameters": {"objective": "binary:logistic", "num_round": "5"},
            "AlgorithmSpecification": {"TrainingImage": XGBOOST_IMAGE, "TrainingInputMode": "File"},
            "RoleArn": ROLE,
            "InputDataConfig": channels,
            "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/{prefix}/models"},
            "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
            "StoppingCondition": {"MaxRuntimeInSeconds": 600},
        },
    }


def script_tuning(bucket: str, code: str, name: str, strategy: str, maximum: int | None, parallel: int,
                  ranges: dict[str, Any], static: dict[str, str] | None = None) -> dict[str, Any]:
    """A tuning job of script-mode trials whose objective `score` is read from the log by a MetricDefinitions regex."""
    limits: dict[str, int] = {"MaxParallelTrainingJobs": parallel}
    if maximum is not None:
        limits["MaxNumberOfTrainingJobs"] = maximum
    return {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobConfig": {
            "Strategy": strategy,
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "score"},
            "ResourceLimits": limits,
            "ParameterRanges": ranges,
            "RandomSeed": 7,
        },
        "TrainingJobDefinition": {
            "StaticHyperParameters": {"sagemaker_program": "score.py", "sagemaker_submit_directory": code, **(static or {})},
            "AlgorithmSpecification": {
                "TrainingImage": SKLEARN_IMAGE, "TrainingInputMode": "File",
                "MetricDefinitions": [{"Name": "score", "Regex": r"score=([-0-9.]+)"}],
            },
            "RoleArn": ROLE,
            "OutputDataConfig": {"S3OutputPath": f"{code.rsplit('/', 1)[0]}/models"},
            "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
            "StoppingCondition": {"MaxRuntimeInSeconds": 600},
        },
    }


def _max_overlap(jobs: list[dict[str, Any]]) -> int:
    """How many trials ran at once at most, from their creation to their end."""
    events = sorted([(job["CreationTime"], 1) for job in jobs] + [(job["TrainingEndTime"], -1) for job in jobs],
                    key=lambda event: (event[0], event[1]))
    running = peak = 0
    for _, change in events:
        running += change
        peak = max(peak, running)
    return peak


def test_tuning_job_runs_six_real_trainings_two_at_a_time_and_reports_the_best(sagemaker, bucket, xgboost_data) -> None:
    name = tuning_name()
    arn = sagemaker.create_hyper_parameter_tuning_job(**xgboost_tuning(bucket, xgboost_data, name))["HyperParameterTuningJobArn"]
    assert arn.endswith(f":hyper-parameter-tuning-job/{name.lower()}")
    description = wait_tuning(sagemaker, name, timeout=180)

    assert description["HyperParameterTuningJobStatus"] == "Completed", description.get("FailureReason")
    assert description["TrainingJobStatusCounters"] == {
        "Completed": 6, "InProgress": 0, "RetryableError": 0, "NonRetryableError": 0, "Stopped": 0}
    assert description["ObjectiveStatusCounters"] == {"Succeeded": 6, "Pending": 0, "Failed": 0}
    assert description["CreationTime"] <= description["HyperParameterTuningEndTime"] <= description["LastModifiedTime"]
    listed = trials(sagemaker, name)
    assert [re.fullmatch(rf"{name}-(\d{{3}})-[0-9a-f]{{8}}", t["TrainingJobName"]).group(1) for t in listed] == [
        "001", "002", "003", "004", "005", "006"]
    jobs = [sagemaker.describe_training_job(TrainingJobName=t["TrainingJobName"]) for t in listed]
    assert {job["TrainingJobStatus"] for job in jobs} == {"Completed"}
    assert _max_overlap(jobs) == 2, "MaxParallelTrainingJobs is 2: two trials at a time, never three"

    first, trial = jobs[0], listed[0]
    assert first["TuningJobArn"] == arn
    assert first["HyperParameters"] == {"objective": "binary:logistic", "num_round": "5",
                                        "_tuning_objective_metric": "validation:auc", **trial["TunedHyperParameters"]}
    assert 1 <= int(trial["TunedHyperParameters"]["max_depth"]) <= 6
    assert 0.05 <= float(trial["TunedHyperParameters"]["eta"]) <= 0.5
    # The objective is the training job's own FinalMetricDataList value, whatever eval_metric said.
    reported = {metric["MetricName"]: metric["Value"] for metric in first["FinalMetricDataList"]}
    assert trial["FinalHyperParameterTuningJobObjectiveMetric"] == {
        "Type": "Maximize", "MetricName": "validation:auc", "Value": pytest.approx(reported["validation:auc"])}

    best = description["BestTrainingJob"]
    values = {t["TrainingJobName"]: t["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for t in listed}
    assert best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == max(values.values())
    assert values[best["TrainingJobName"]] == max(values.values())
    assert best["ObjectiveStatus"] == "Succeeded" and best["TrainingJobStatus"] == "Completed"
    assert {"TrainingJobArn", "CreationTime", "TrainingStartTime", "TrainingEndTime", "TunedHyperParameters"} <= set(best)
    by_objective = sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name, SortBy="FinalObjectiveMetricValue")["TrainingJobSummaries"]
    assert by_objective[0]["TrainingJobName"] == best["TrainingJobName"]

    summaries = sagemaker.list_hyper_parameter_tuning_jobs(NameContains=name)["HyperParameterTuningJobSummaries"]
    assert [(s["HyperParameterTuningJobName"], s["Strategy"], s["HyperParameterTuningJobStatus"]) for s in summaries] == [
        (name, "Random", "Completed")]


def test_bayesian_search_scores_trials_by_their_metric_definition_and_reports_the_best(sagemaker, score_code) -> None:
    name = tuning_name("bayes")
    ranges = {"ContinuousParameterRanges": [{"Name": "x", "MinValue": "0", "MaxValue": "1", "ScalingType": "Linear"}],
              "CategoricalParameterRanges": [{"Name": "shape", "Values": ["narrow", "wide"]}]}
    sagemaker.create_hyper_parameter_tuning_job(**script_tuning(score_code.split("/")[2], score_code, name, "Bayesian", 6, 2, ranges))
    description = wait_tuning(sagemaker, name)
    assert description["HyperParameterTuningJobStatus"] == "Completed", description.get("FailureReason")
    listed = trials(sagemaker, name)
    assert len(listed) == 6 and description["ObjectiveStatusCounters"]["Succeeded"] == 6
    for trial in listed:
        x, shape = float(trial["TunedHyperParameters"]["x"]), trial["TunedHyperParameters"]["shape"]
        expected = -(x - 0.3) ** 2 + (0.5 if shape == "wide" else 0.0)  # the last score= line, not the first
        assert trial["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == pytest.approx(expected, abs=1e-5)
    best = description["BestTrainingJob"]
    assert best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == max(
        t["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for t in listed)


def test_grid_search_runs_every_combination_once_without_a_max_number(sagemaker, score_code) -> None:
    name = tuning_name("grid")
    ranges = {"CategoricalParameterRanges": [{"Name": "x", "Values": ["0.1", "0.3"]},
                                             {"Name": "shape", "Values": ["narrow", "wide"]}]}
    sagemaker.create_hyper_parameter_tuning_job(**script_tuning(score_code.split("/")[2], score_code, name, "Grid", None, 3, ranges))
    description = wait_tuning(sagemaker, name)
    assert description["HyperParameterTuningJobStatus"] == "Completed", description.get("FailureReason")
    combinations = sorted((t["TunedHyperParameters"]["x"], t["TunedHyperParameters"]["shape"]) for t in trials(sagemaker, name))
    assert combinations == [("0.1", "narrow"), ("0.1", "wide"), ("0.3", "narrow"), ("0.3", "wide")]
    assert description["BestTrainingJob"]["TunedHyperParameters"] == {"x": "0.3", "shape": "wide"}


@pytest.mark.parametrize("strategy", ["Random", "Hyperband"])
def test_random_and_hyperband_search_draw_within_the_ranges_on_their_scale(sagemaker, score_code, strategy: str) -> None:
    name = tuning_name(strategy.lower())
    ranges = {"ContinuousParameterRanges": [{"Name": "x", "MinValue": "0.001", "MaxValue": "1",
                                             "ScalingType": "Logarithmic"}],
              "IntegerParameterRanges": [{"Name": "depth", "MinValue": "2", "MaxValue": "4"}]}
    sagemaker.create_hyper_parameter_tuning_job(**script_tuning(score_code.split("/")[2], score_code, name, strategy, 3, 3, ranges))
    description = wait_tuning(sagemaker, name)
    assert description["HyperParameterTuningJobStatus"] == "Completed", description.get("FailureReason")
    listed = trials(sagemaker, name)
    assert len(listed) == 3
    assert all(0.001 <= float(t["TunedHyperParameters"]["x"]) <= 1 for t in listed)
    assert all(t["TunedHyperParameters"]["depth"] in ("2", "3", "4") for t in listed)


def test_stop_ends_the_running_trials_and_starts_no_more(sagemaker, score_code) -> None:
    name = tuning_name("stop")
    ranges = {"ContinuousParameterRanges": [{"Name": "x", "MinValue": "0", "MaxValue": "1"}]}
    sagemaker.create_hyper_parameter_tuning_job(**script_tuning(
        score_code.split("/")[2], score_code, name, "Random", 5, 2, ranges, static={"sleep": "300"}))
    wait_tuning(sagemaker, name, until=lambda d: d["TrainingJobStatusCounters"]["InProgress"] == 2)
    for trial in trials(sagemaker, name):  # both trials are past their downloads, running the script
        deadline = time.monotonic() + 30
        while sagemaker.describe_training_job(TrainingJobName=trial["TrainingJobName"])["SecondaryStatus"] != "Training":
            assert time.monotonic() < deadline
            time.sleep(0.2)
    sagemaker.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    assert sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)[
        "HyperParameterTuningJobStatus"] in ("Stopping", "Stopped")
    description = wait_tuning(sagemaker, name, timeout=30)
    assert description["HyperParameterTuningJobStatus"] == "Stopped"
    assert description["TrainingJobStatusCounters"]["Stopped"] == 2
    assert description["ObjectiveStatusCounters"] == {"Succeeded": 0, "Pending": 0, "Failed": 2}
    assert "BestTrainingJob" not in description
    assert len(trials(sagemaker, name)) == 2
    with pytest.raises(ClientError, match="only an InProgress tuning job can be stopped"):
        sagemaker.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)


def test_more_parallel_trainings_than_trainings_is_accepted_and_runs_the_maximum(sagemaker, score_code) -> None:
    name = tuning_name("parallel")
    ranges = {"ContinuousParameterRanges": [{"Name": "x", "MinValue": "0", "MaxValue": "1"}]}
    sagemaker.create_hyper_parameter_tuning_job(**script_tuning(score_code.split("/")[2], score_code, name, "Random", 1, 4, ranges))
    description = wait_tuning(sagemaker, name)
    assert description["HyperParameterTuningJobStatus"] == "Completed"
    assert description["TrainingJobStatusCounters"]["Completed"] == 1 and len(trials(sagemaker, name)) == 1
    with pytest.raises(ClientError) as taken:
        sagemaker.create_hyper_parameter_tuning_job(**script_tuning(score_code.split("/")[2], score_code, name, "Random", 1, 1, ranges))
    assert taken.value.response["Error"]["Code"] == "ResourceInUse"


def test_a_trial_without_the_objective_fails_the_tuning_job_naming_the_metric(sagemaker, bucket, xgboost_data) -> None:
    name = tuning_name("nometric")
    request = xgboost_tuning(bucket, xgboost_data, name, maximum=1, parallel=1)
    request["TrainingJobDefinition"]["InputDataConfig"] = request["TrainingJobDefinition"]["InputDataConfig"][:1]
    sagemaker.create_hyper_parameter_tuning_job(**request)  # validation:auc needs a validation channel
    description = wait_tuning(sagemaker, name)
    assert description["HyperParameterTuningJobStatus"] == "Failed"
    assert "validation:auc" in description["FailureReason"]
    assert description["ObjectiveStatusCounters"]["Failed"] == 1


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(request: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = request
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is _DELETE:
            del target[last]
        else:
            target[last] = value
    return change


_DELETE = object()
_RANGES = "HyperParameterTuningJobConfig.ParameterRanges"


@pytest.mark.parametrize(("change", "expected"), [
    (_set("HyperParameterTuningJobConfig.Strategy", "Annealing"),
     "Value 'Annealing' at 'hyperParameterTuningJobConfig.strategy' failed to satisfy constraint: Member must satisfy enum value set: [Bayesian, Random, Hyperband, Grid]"),
    (_set(_RANGES, {}), "hyperParameterTuningJobConfig.parameterRanges: the tuning job has no hyperparameter to tune"),
    (_set(_RANGES, {"IntegerParameterRanges": [], "ContinuousParameterRanges": []}),
     "hyperParameterTuningJobConfig.parameterRanges: the tuning job has no hyperparameter to tune"),
    (_set(f"{_RANGES}.IntegerParameterRanges.0.MinValue", "9"),
     "parameterRanges.integerParameterRanges.1.member.minValue: MinValue 9 of hyperparameter 'max_depth' is greater than its MaxValue 6"),
    (_set(f"{_RANGES}.ContinuousParameterRanges.0.MinValue", "0"),
     "Logarithmic scaling of hyperparameter 'eta' needs a MinValue greater than 0"),
    (_set("HyperParameterTuningJobConfig.HyperParameterTuningJobObjective.MetricName", "validation:banana"),
     "hyperParameterTuningJobConfig.hyperParameterTuningJobObjective.metricName: the objective metric for the hyperparameter tuning job, [validation:banana], isn't valid for the [XGBoost] algorithm"),
    (_set("HyperParameterTuningJobConfig.Strategy", "Grid"),
     "the Grid strategy supports CategoricalParameterRanges only; 'max_depth' is in IntegerParameterRanges"),
    (_set("HyperParameterTuningJobConfig.ResourceLimits.MaxNumberOfTrainingJobs", _DELETE),
     "Value null at 'hyperParameterTuningJobConfig.resourceLimits.maxNumberOfTrainingJobs' failed to satisfy constraint: Member must not be null"),
    (_set(_RANGES, {"CategoricalParameterRanges": [{"Name": "max_depth", "Values": ["2", "3"]}]}),
     "The total number of hyperparameter combinations for the provided ranges [2.0] must be equal or greater than the value of MaxNumberOfTrainingJobs, [6]"),
    (_set("TrainingJobDefinition.StaticHyperParameters.max_depth", "3"),
     "hyperparameter 'max_depth' is both static (StaticHyperParameters) and tuned"),
    (_set("TrainingJobDefinition.OutputDataConfig.S3OutputPath", "not-s3"),
     "Value 'not-s3' at 'trainingJobDefinition.outputDataConfig.s3OutputPath' failed to satisfy constraint"),
    (_set("HyperParameterTuningJobName", "bad_name"), "at 'hyperParameterTuningJobName' failed to satisfy constraint"),
])
def test_bad_request_is_refused_naming_the_field(sagemaker, bucket, change: Callable[[dict[str, Any]], None], expected: str) -> None:
    request = xgboost_tuning(bucket, "unused", tuning_name("bad"))
    change(request)
    with pytest.raises(ClientError) as refused:
        sagemaker.create_hyper_parameter_tuning_job(**request)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert expected in refused.value.response["Error"]["Message"]
    assert request["HyperParameterTuningJobName"] not in str(sagemaker.list_hyper_parameter_tuning_jobs(MaxResults=100))


def test_an_objective_missing_from_the_metric_definitions_is_refused(sagemaker, score_code) -> None:
    request = script_tuning(score_code.split("/")[2], score_code, tuning_name("undeclared"), "Random", 1, 1,
                            {"ContinuousParameterRanges": [{"Name": "x", "MinValue": "0", "MaxValue": "1"}]})
    request["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"]["MetricName"] = "loss"
    with pytest.raises(ClientError, match=r"the objective metric \[loss\] is not one of the training job definition's MetricDefinitions \(score\)"):
        sagemaker.create_hyper_parameter_tuning_job(**request)


def test_unknown_tuning_job_is_resource_not_found(sagemaker) -> None:
    for call in (sagemaker.describe_hyper_parameter_tuning_job, sagemaker.stop_hyper_parameter_tuning_job,
                 sagemaker.list_training_jobs_for_hyper_parameter_tuning_job):
        with pytest.raises(ClientError) as missing:
            call(HyperParameterTuningJobName="no-such-tuning-job")
        assert missing.value.response["Error"]["Code"] == "ResourceNotFound"
        assert "can't find a tuning job with name no-such-tuning-job" in missing.value.response["Error"]["Message"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the endpoint's job sandbox is Linux's")
def test_a_restart_keeps_a_finished_tuning_job_and_fails_a_running_one(tmp_path: Path, endpoint_processes: Any) -> None:
    first = endpoint_processes("--work-dir", str(tmp_path / "work"))
    s3, sagemaker = first.client("s3"), first.client("sagemaker")
    s3.create_bucket(Bucket="tuning-restart")
    code = _upload_score_code(s3, "tuning-restart")
    ranges = {"ContinuousParameterRanges": [{"Name": "x", "MinValue": "0", "MaxValue": "1"}]}
    sagemaker.create_hyper_parameter_tuning_job(**script_tuning("tuning-restart", code, "finished", "Random", 2, 2, ranges))
    finished = wait_tuning(sagemaker, "finished")
    assert finished["HyperParameterTuningJobStatus"] == "Completed"
    sagemaker.create_hyper_parameter_tuning_job(**script_tuning(
        "tuning-restart", code, "running", "Random", 3, 1, ranges, static={"sleep": "300"}))
    wait_tuning(sagemaker, "running", until=lambda d: d["TrainingJobStatusCounters"]["InProgress"] == 1)
    # SIGTERM writes the last snapshot (a SIGKILL could beat the engine's own save of the new trial).
    assert first.stop() == 0

    second = endpoint_processes("--work-dir", str(tmp_path / "work"))
    sagemaker = second.client("sagemaker")
    again = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="finished")
    assert again["BestTrainingJob"] == finished["BestTrainingJob"]
    assert again["TrainingJobStatusCounters"] == finished["TrainingJobStatusCounters"]
    running = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="running")
    assert running["HyperParameterTuningJobStatus"] == "Failed"
    assert running["FailureReason"].startswith("endpoint restarted")
    assert running["TrainingJobStatusCounters"]["NonRetryableError"] == 1
    time.sleep(1.5)  # no search resumes: still one trial
    assert len(trials(sagemaker, "running")) == 1
    assert second.stop() == 0
