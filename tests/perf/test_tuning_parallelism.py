"""A tuning job's wall time against the sum of its trainings run one by one: the ratio shows the parallelism.

On the session's local endpoint, a hyperparameter tuning job of TRIALS small XGBoost trainings
(the tuning test's request: Random search over max_depth and eta, a fixed RandomSeed) runs with
MaxParallelTrainingJobs=PARALLEL; then the same TRIALS hyperparameter sets (each trial's own, read
back with DescribeTrainingJob) run as standalone CreateTrainingJobs one after another. Side by side
in one run, ROUNDS rounds alternating which side goes first, after a warm-up job; each round's ratio
and the best of each side are compared.

Measured on the endpoint's own clock: the tuning job's CreationTime to HyperParameterTuningEndTime,
against the sum of the standalone jobs' CreationTime to TrainingEndTime (each waited for before
the next is created). Also printed: the trials' own CreationTime to TrainingEndTime summed (each
slowed by its neighbour, so a flattering sum) and the client's clocks.
Goal: ratio < 0.8 with 2 in parallel on a 2-core machine (asserted on the best of the rounds).
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import pytest

from tests.local_sagemaker.test_standalone_jobs import _csv
from tests.local_sagemaker.test_tuning_jobs import trials, tuning_name, wait_tuning, xgboost_tuning
from tests.support.pipelines import unique

TRIALS, PARALLEL = 6, 2
ROUNDS = 5
TRAIN_ROWS, VALIDATION_ROWS = 200, 80  # the tuning test's small trainings (5 rounds each)
RATIO_GOAL = 0.8
POLL_SECONDS = 0.1


def _seconds(start: Any, end: Any) -> float:
    return (end - start).total_seconds()


def _phases(jobs: list[dict[str, Any]], into: dict[str, float]) -> None:
    """Add each job's time per phase (created to Starting, then each SecondaryStatus) to `into`."""
    for job in jobs:
        transitions = [t for t in job["SecondaryStatusTransitions"] if t["Status"] != "Completed"]
        into["queued"] = into.get("queued", 0.0) + _seconds(job["CreationTime"], transitions[0]["StartTime"])
        for transition in transitions:
            into[transition["Status"]] = into.get(transition["Status"], 0.0) + _seconds(
                transition["StartTime"], transition.get("EndTime") or job["TrainingEndTime"])


def _standalone(sagemaker: Any, definition: dict[str, Any], hyperparameters: dict[str, str]) -> dict[str, Any]:
    """One CreateTrainingJob of the tuning job's training definition with a trial's hyperparameters, waited for."""
    name = unique("perf-seq")[:63]
    sagemaker.create_training_job(
        TrainingJobName=name, HyperParameters=hyperparameters,
        **{key: definition[key] for key in ("AlgorithmSpecification", "RoleArn", "InputDataConfig",
                                             "OutputDataConfig", "ResourceConfig", "StoppingCondition")})
    while (job := sagemaker.describe_training_job(TrainingJobName=name))["TrainingJobStatus"] in (
            "InProgress", "Stopping"):
        time.sleep(POLL_SECONDS)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    return job


@pytest.mark.perf
def test_tuning_job_wall_time_against_its_trainings_one_by_one(endpoint_client) -> None:
    s3, sagemaker = endpoint_client("s3"), endpoint_client("sagemaker")
    bucket, prefix = unique("perf-tuning"), "data"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key=f"{prefix}/train/train.csv", Body=_csv(TRAIN_ROWS, 11))
    s3.put_object(Bucket=bucket, Key=f"{prefix}/validation/validation.csv", Body=_csv(VALIDATION_ROWS, 12))

    def tuning_round() -> tuple[dict[str, float], list[dict[str, str]]]:
        request = xgboost_tuning(bucket, prefix, tuning_name("perf-tune"), maximum=TRIALS, parallel=PARALLEL)
        request["HyperParameterTuningJobConfig"]["RandomSeed"] = 7  # the same sets each round
        started = time.perf_counter()
        sagemaker.create_hyper_parameter_tuning_job(**request)
        description = wait_tuning(sagemaker, request["HyperParameterTuningJobName"], timeout=300)
        client = time.perf_counter() - started
        assert description["HyperParameterTuningJobStatus"] == "Completed", description.get("FailureReason")
        jobs = [sagemaker.describe_training_job(TrainingJobName=trial["TrainingJobName"])
                for trial in trials(sagemaker, request["HyperParameterTuningJobName"])]
        assert len(jobs) == TRIALS and {job["TrainingJobStatus"] for job in jobs} == {"Completed"}
        _phases(jobs, phases["trials"])
        return {"tuning": _seconds(description["CreationTime"], description["HyperParameterTuningEndTime"]),
                "trials": sum(_seconds(job["CreationTime"], job["TrainingEndTime"]) for job in jobs),
                "tuning client": client}, [
            {key: value for key, value in job["HyperParameters"].items() if key != "_tuning_objective_metric"}
            for job in jobs]

    def sequential_round(sets: list[dict[str, str]]) -> dict[str, Any]:
        started = time.perf_counter()
        jobs = [_standalone(sagemaker, definition, hyperparameters) for hyperparameters in sets]
        _phases(jobs, phases["one by one"])
        return {"sequential": sum(_seconds(job["CreationTime"], job["TrainingEndTime"]) for job in jobs),
                "sequential client": time.perf_counter() - started}

    definition = xgboost_tuning(bucket, prefix, "unused")["TrainingJobDefinition"]
    _standalone(sagemaker, definition, definition["StaticHyperParameters"])  # warm-up: the first job's costs
    phases: dict[str, dict[str, float]] = {"one by one": {}, "trials": {}}
    rounds: list[dict[str, Any]] = []
    sets: list[dict[str, str]] = []
    for index in range(ROUNDS):  # the order alternates: the second round runs the sets one by one first
        if index % 2 == 0:
            tuned, found = tuning_round()
            sets = sets or found
            rounds.append({**tuned, **sequential_round(sets), "same sets": found == sets})
        else:
            one_by_one = sequential_round(sets)
            tuned, found = tuning_round()
            rounds.append({**tuned, **one_by_one, "same sets": found == sets})

    print(f"\nTuning job of {TRIALS} XGBoost trainings ({TRAIN_ROWS} rows, 5 rounds each), "
          f"MaxParallelTrainingJobs={PARALLEL}, against the same {TRIALS} as standalone jobs one by one:")
    for index, m in enumerate(rounds, 1):
        print(f"  round {index}: tuning job {m['tuning']:5.2f} s, one by one {m['sequential']:5.2f} s, ratio "
              f"{m['tuning'] / m['sequential']:.2f}x | trials' own sum {m['trials']:5.2f} s "
              f"({m['tuning'] / m['trials']:.2f}x) | client clocks {m['tuning client']:5.2f} s / "
              f"{m['sequential client']:5.2f} s ({m['tuning client'] / m['sequential client']:.2f}x)"
              + ("" if m["same sets"] else " (this round's tuning job chose other sets)"))
    for side, seconds in phases.items():
        jobs = ROUNDS * TRIALS
        print(f"  a job's phases, {side} (mean of {jobs}): " + ", ".join(
            f"{status} {total / jobs * 1000:.0f} ms" for status, total in seconds.items())
            + f"; in all {sum(seconds.values()) / jobs * 1000:.0f} ms")
    tuning, sequential = min(m["tuning"] for m in rounds), min(m["sequential"] for m in rounds)
    ratio = tuning / sequential
    median = statistics.median(m["tuning"] / m["sequential"] for m in rounds)
    print(f"  best of {ROUNDS}: tuning job {tuning:.2f} s, one by one {sequential:.2f} s, ratio {ratio:.2f}x "
          f"(goal < {RATIO_GOAL}x with {PARALLEL} in parallel); the rounds' median ratio {median:.2f}x")
    assert ratio < RATIO_GOAL, f"tuning job / its trainings one by one {ratio:.2f}x, goal < {RATIO_GOAL}x"
