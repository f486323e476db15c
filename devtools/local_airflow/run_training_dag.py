"""`make run`: an example pipeline's training DAG end to end with `airflow dags test`, on the local endpoint.

Starts the local SageMaker endpoint on a free loopback port, seeds the day's partition,
creates the SNS topic with an SQS queue subscribed, prepares a throwaway Airflow home
(SQLite, the pool, the aws_default connection and the Variables, all as env vars), runs
`airflow dags test` for the day, then prints a summary: the execution, each step's status and
duration, the metrics, the decision, the model package, and the SNS message as the queue received
it, the wall time of each phase, and one verdict line (APPROVED / REJECTED / NOT PROMOTED /
FAILED). The metadata DB is a copy of one migrated once per Airflow version
(prepared_metadata_db), made while the endpoint starts. Stops the endpoint and removes the
Airflow home. No AWS account is used: every client points at 127.0.0.1.

`--pipeline regression` runs the regression example instead. `--runtime PYTHON` runs the DAG with
another virtualenv's Airflow, as a deployment runs it: that environment's packages only (a
runtime-only one has no SageMaker SDK, no moto, no local tools), the DAG folder and include/
copied into a deployment folder of their own, the plugin from the plugins folder unless that
environment has the package installed, and none of the local speed-ups.

Exit codes: 0 the run ran and decided (a rejected model is a decision, not a failure);
1 something broke (a task failed, no report arrived); 2 bad arguments.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from devtools.local_airflow.environment import (
    BUCKET,
    FAKE_AWS,
    IN_PROCESS_GC_THRESHOLDS,
    PROJECT_ROOT,
    REGION,
    airflow_environment,
    settings_as_environment,
)
from devtools.local_airflow.prepared_metadata_db import copy_prepared_db
from devtools.local_airflow.run_phases import RunPhases
from devtools.local_airflow.seed_local_stack import topic_with_queue
from devtools.sample_data.partitions import declaration, sample_pipelines, seed_partitions

# The lines of the `dags test` output worth showing while it runs.
PROGRESS_MARKERS = ("Step ", "Decision:", "[DAG TEST] end task", "Pipeline execution", "[error", "Sent SnsNotifier",
                    "Smoke test of", "Deploying ")
# Lines of the `dags test` output that mark where its fixed costs end: its first task's start and end.
DAG_RUN_MILESTONES = ("[DAG TEST] starting task_id=", "[DAG TEST] end task")
# Airflow's CLI as the `airflow` script runs it, but for the garbage collector, which took ~1 s of a
# run: IN_PROCESS_GC_THRESHOLDS, and the heap frozen on the way out (the final collection of
# everything loaded would add ~1.5 s to every run).
AIRFLOW_CLI = (f"import gc, sys\ngc.set_threshold(*{IN_PROCESS_GC_THRESHOLDS!r})\nfrom airflow.__main__ import main\n"
               "try:\n    sys.exit(main())\nfinally:\n    gc.freeze()")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.local_airflow.run_training_dag",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--day", type=date.fromisoformat, default=datetime.now(UTC).date() - timedelta(days=1),
                        help="the data partition to train on (default: yesterday, UTC)")
    parser.add_argument("--pipeline", default="classification", choices=sample_pipelines(),
                        help="the example pipeline (include/pipelines/<name>) whose training DAG runs (default classification)")
    parser.add_argument("--threshold", type=float, default=None,
                        help="override the form's threshold of the pipeline's metric (classification: the minimum "
                             "AUC, e.g. 0.9; regression: the maximum RMSE, e.g. 60)")
    parser.add_argument("--runtime", type=Path, default=None, metavar="PYTHON",
                        help="run the DAG with this Python's Airflow, as a deployment would (see above)")
    options = parser.parse_args(argv)
    options.declaration = declaration(options.pipeline)
    os.environ.update(FAKE_AWS)

    import boto3

    from devtools.local_sagemaker.server import LocalSageMakerEndpoint
    phases = RunPhases()

    airflow_home = Path(tempfile.mkdtemp(prefix="airflow-run-"))
    try:
        with ThreadPoolExecutor(max_workers=1) as background, ExitStack() as stack:
            # The metadata DB is copied (the first time: migrated) while the endpoint starts.
            metadata_db = background.submit(phases.call, "metadata DB", copy_prepared_db, airflow_home / "airflow.db",
                                            note=_metadata_db_note)
            with phases.timed("endpoint start", "local SageMaker endpoint, the day's partition, SNS topic + SQS queue"):
                endpoint = stack.enter_context(LocalSageMakerEndpoint("127.0.0.1", 0, airflow_home / "endpoint"))
                print(f"Local SageMaker endpoint: {endpoint.url}")
                session = boto3.session.Session(region_name=REGION)
                clients = {name: session.client(name, endpoint_url=endpoint.url)
                           for name in ("s3", "sns", "sqs", "sagemaker", "sagemaker-runtime")}
                seed_partitions(clients["s3"], BUCKET, options.day, options.day, pipeline=options.pipeline)
                print(f"Seeded {options.declaration.partition_uri(BUCKET, options.day)}")
                topic_arn, queue_url = topic_with_queue(clients["sns"], clients["sqs"])
            print(f"Airflow metadata DB (SQLite): {_metadata_db_note(metadata_db.result())}")
            env = {**airflow_environment(airflow_home), **settings_as_environment(endpoint.url, topic_arn)}
            if options.runtime:
                env.update(deployment_environment(options.runtime, airflow_home / "deployment"))
            with phases.timed("DAG run", "airflow dags test"):
                returncode = _dags_test(env, options, airflow_home / "dags-test.log", phases)
            with phases.timed("summary"):
                report = _summarize(clients, queue_url, options.day, options.declaration.name)
            print("\n" + phases.report(_execution_seconds(clients["sagemaker"], options.declaration.name)))
            decided = report is not None and report["outcome"] in DECIDED and returncode == 0
            if not decided:
                error = (report or {}).get("error") or "no run report arrived"
                print(f"\nFAILED: {error} (airflow dags test exited {returncode}); rerun with KEEP_AIRFLOW_HOME=1 "
                      "to keep its full log (dags-test.log in the Airflow home)")
                return 1
            verdict = _verdict(report)
            if options.declaration.deploy is None:
                print(f"\n{verdict}")
                return 0
            from devtools.local_airflow.run_deploy import deploy_after_approval

            with phases.timed("deploy run", "the deploy DAG, for the approval's asset event"):
                deployed, why = deploy_after_approval(env, options, report, airflow_home, clients, queue_url)
            scored, not_scored = False, "only an approved model scores"
            if deployed and options.declaration.scoring is not None:
                from devtools.local_airflow.run_scoring import score_the_day

                with phases.timed("scoring run", "the scoring DAG, the day scored by a batch transform"):
                    scored, not_scored = score_the_day(env, options, airflow_home, clients, queue_url)
            print(f"\n{verdict}" + (" and DEPLOYED" if deployed else f"; NOT DEPLOYED: {why}")
                  + ("" if not deployed or options.declaration.scoring is None else
                     " and the day SCORED" if scored else f"; NOT SCORED: {not_scored}"))
            return 0 if (deployed and (scored or options.declaration.scoring is None)) \
                or report["outcome"] not in ("approved", "unchanged") else 1
    finally:
        if os.environ.get("KEEP_AIRFLOW_HOME"):
            print(f"Airflow home kept in {airflow_home}")
        else:
            shutil.rmtree(airflow_home, ignore_errors=True)


def deployment_environment(python: Path, folder: Path) -> dict[str, str]:
    """What an Airflow of `python` reads the product from, laid out as in the production image: the
    DAG folder, include/ importable beside it, plugins/ only where the package is not installed."""
    for name in ("dags", "include"):
        shutil.copytree(PROJECT_ROOT / name, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
    installed = subprocess.run([str(python), "-c", "import importlib.metadata as m; m.distribution("
                                "'airflow-sagemaker-pipelines')"], capture_output=True).returncode == 0
    plugins = folder / "plugins"
    if installed:
        plugins.mkdir()
    else:
        shutil.copytree(PROJECT_ROOT / "plugins", plugins, ignore=shutil.ignore_patterns("__pycache__"))
    print(f"Deployment folder {folder}: dags/, include/, plugins/ "
          + ("empty (the package is installed in that environment)" if installed else "copied"))
    return {"AIRFLOW__CORE__DAGS_FOLDER": str(folder / "dags"), "AIRFLOW__CORE__PLUGINS_FOLDER": str(plugins),
            "PYTHONPATH": str(folder), "AIRFLOW__AWS__SESSION_FACTORY": ""}


def _metadata_db_note(reused: bool) -> str:
    return ("reused: a copy of the one migrated for this Airflow version" if reused
            else "migrated with the pool, kept for the next runs")


def _dags_test(env: dict[str, str], options: argparse.Namespace, log_path: Path, phases: RunPhases) -> int:
    """`airflow dags test` for the run of the data day options.day; progress lines are echoed,
    and the time to its first task and that task's own time are noted as parts of the DAG run."""
    conf = None
    if options.threshold is not None:
        from airflow_sagemaker_pipelines.dag_family import MetricForm

        conf = {MetricForm.of(options.declaration).threshold_param: options.threshold}
    # A run triggered for a day trains on that day.
    returncode, seen = dags_test(env, options, options.declaration.dag_id, options.day.isoformat(), conf, log_path)
    _note_dag_run_parts(phases, seen)
    return returncode


def dags_test(env: dict[str, str], options: argparse.Namespace, dag_id: str, logical_date: str | None,
              conf: dict[str, Any] | None, log_path: Path) -> tuple[int, dict[str, tuple[float, str]]]:
    """`airflow dags test` with this run's Airflow; progress lines echoed, the log kept; the exit code and
    when the milestones were seen."""
    python = str(options.runtime or sys.executable)
    command = [python, "-c", AIRFLOW_CLI, "dags", "test", dag_id, *([logical_date] if logical_date else [])]
    if conf:
        command += ["--conf", json.dumps(conf)]
    print(f"$ airflow dags test {dag_id} {logical_date or ''}" + (f"   (Airflow of {python})" if options.runtime else "")
          + (f" --conf '{json.dumps(conf)}'" if conf else ""))
    with log_path.open("w") as log, subprocess.Popen(
        command, env={**os.environ, **env}, cwd=PROJECT_ROOT, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    ) as process:
        assert process.stdout is not None
        started, seen = time.perf_counter(), {}
        for line in process.stdout:
            log.write(line)
            if any(marker in line for marker in PROGRESS_MARKERS):
                print("  " + _short(line))
            for milestone in DAG_RUN_MILESTONES:
                if milestone not in seen and milestone in line:
                    seen[milestone] = (time.perf_counter() - started, line.split("task_id=", 1)[-1].split()[0])
    return process.returncode, seen


def _note_dag_run_parts(phases: RunPhases, seen: dict[str, tuple[float, str]]) -> None:
    first_start, first_end = (seen.get(milestone) for milestone in DAG_RUN_MILESTONES)
    if first_start:
        phases.add("- Airflow start", first_start[0], "CLI imports, DAG parsed and serialized, run created")
    if first_start and first_end:
        phases.add("- first task", first_end[0] - first_start[0],
                   f"{first_start[1]}, with Airflow's in-process execution API starting up")


def _short(line: str) -> str:
    """Drop the timestamp and the logger suffix Airflow adds."""
    text = line.strip()
    if "] " in text:
        text = text.split("] ", 1)[1]
    return text.rsplit(" [", 1)[0][:220]


DECIDED = ("approved", "rejected", "gate_failed", "not_promoted", "unchanged")
VERDICTS = {"approved": "model approved", "rejected": "model not approved",
            "gate_failed": "the pipeline's quality gate registered no model",
            "not_promoted": "model kept, not promoted", "unchanged": "the approved model stays as it was"}


def _verdict(report: dict[str, Any]) -> str:
    """One line that says what happened: `REJECTED: AUC 0.7383 is below the threshold 0.9900; model not approved`."""
    from airflow_sagemaker_pipelines.run_report import OUTCOME_TITLES

    outcome = report["outcome"]
    return f"{OUTCOME_TITLES[outcome]}: {report['decision_reason']}; {VERDICTS[outcome]}"


def _summarize(clients: dict[str, Any], queue_url: str, day: date, pipeline_name: str) -> dict[str, Any] | None:
    """Print the execution, its steps, the metrics (4 places), the decision and the package; the run report."""
    sagemaker = clients["sagemaker"]
    print(f"\nData day   {day}")
    executions = sagemaker.list_pipeline_executions(PipelineName=pipeline_name)["PipelineExecutionSummaries"]
    if not executions:
        print("No pipeline execution was started.")
        return None
    arn = executions[0]["PipelineExecutionArn"]
    description = sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)
    print(f"Execution  {arn}")
    print(f"Status     {description['PipelineExecutionStatus']}"
          + (f" ({description['FailureReason']})" if description.get("FailureReason") else ""))
    steps = sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=arn, SortOrder="Ascending")
    for step in steps["PipelineExecutionSteps"]:
        seconds = (step.get("EndTime", step["StartTime"]) - step["StartTime"]).total_seconds()
        print(f"  {step['StepName']:<20} {step['StepStatus']:<10} {seconds:6.1f} s")
    report = received_report(clients["sqs"], queue_url)
    if report is None:
        print("SNS        no message received")
        return None
    subject, facts = report
    metrics = facts.get("metrics") or {}
    print("Metrics    " + (", ".join(f"{name}={value:.4f}" if isinstance(value, float) else f"{name}={value}"
                                     for name, value in metrics.items()) or "-"))
    print(f"Decision   {facts['outcome']}: {facts.get('decision_reason') or facts.get('error')}")
    if facts.get("model_package_arn"):
        package = sagemaker.describe_model_package(ModelPackageName=facts["model_package_arn"])
        print(f"Package    {package['ModelPackageArn']} ({package['ModelApprovalStatus']})")
    print(f"SNS        {subject} (the whole report as JSON on its last line)")
    return facts


def _execution_seconds(sagemaker: Any, pipeline_name: str) -> float | None:
    """The last execution's own wall time: created to its last step's end."""
    executions = sagemaker.list_pipeline_executions(PipelineName=pipeline_name)["PipelineExecutionSummaries"]
    if not executions:
        return None
    arn = executions[0]["PipelineExecutionArn"]
    created = sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)["CreationTime"]
    steps = sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    ends = [step["EndTime"] for step in steps if step.get("EndTime")]
    return (max(ends) - created).total_seconds() if ends else None


def received_report(sqs: Any, queue_url: str) -> tuple[str, dict[str, Any]] | None:
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    if not messages:
        return None
    # The DAG's plugin package reads its own report format back (plugins/ is on Airflow's path,
    # not on this script's).
    sys.path.insert(0, str(PROJECT_ROOT / "plugins"))
    from airflow_sagemaker_pipelines.run_report import RunReport

    envelope = json.loads(messages[-1]["Body"])
    facts = asdict(RunReport.from_message(envelope["Message"]))
    return envelope.get("Subject", ""), facts


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        gc.freeze()  # no final garbage collection of moto's and boto3's heap on the way out (~0.5 s)
