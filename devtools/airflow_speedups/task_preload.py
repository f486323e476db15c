"""The libraries and AWS service models this package's tasks use, loaded once in the process that forks the tasks.

Airflow runs each task in a process forked from a long-lived one: a LocalExecutor worker, itself
forked from the scheduler, or a Celery pool process, forked from `airflow celery worker`. Each task
then imported what it needs of Airflow, boto3 and the Amazon provider again and parsed the AWS
service models (SageMaker's is megabytes of JSON) again. Loaded in the forking process, a task
inherits them with its memory: the task processes of a training DAG run take 1.96 s of CPU instead
of 2.34 s (1.19x; `make perf`, tests/perf/test_task_preload_cpu.py: boto3 and the provider's base
are already in the scheduler, which loads this package's plugin).

Only what does not change while Airflow runs is loaded: third-party modules and botocore's data
files (through the shared loader, which keeps them). The package's own modules are imported by
each task anew, so an edited operator takes effect at its next task.

The local tools' airflow_local_settings.py calls `preload_for_forked_tasks` in every Airflow
process; it acts only in a process that forks tasks (`forks_tasks`), and costs it ~1 s once.
`LOCAL_AIRFLOW_SPEEDUPS` without `task_preload` turns it off (devtools/airflow_speedups/__init__.py).
"""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

# What the training DAGs' tasks import, at parse (the DAG file) and when they run. Airflow's own
# modules first: the task runner, what it imports as it starts and looks a connection up (the
# supervisor's comms and logging: a Celery worker imports them only in its pool processes), and
# what the DAG's cron timetable and the DAG object import.
TASK_MODULES = (
    "airflow.sdk.execution_time.task_runner",
    "airflow.sdk.execution_time.supervisor",
    "airflow.sdk.execution_time.cache",
    "airflow.sdk.log",
    "airflow.sdk.definitions.timetables.interval",
    "airflow.timetables.base",
    "airflow.timetables.interval",  # the DAG's DataDayTimetable is a core timetable
    "airflow.serialization.dag_dependency",
    "boto3",
    "botocore.session",
    "airflow.providers.amazon.aws.hooks.base_aws",
    "airflow.providers.amazon.aws.hooks.logs",
    "airflow.providers.amazon.aws.hooks.s3",
    "airflow.providers.amazon.aws.hooks.sagemaker",
    "airflow.providers.amazon.aws.links.base_aws",
    "airflow.providers.amazon.aws.notifications.sns",
    "airflow.providers.amazon.aws.operators.base_aws",
    "airflow.providers.amazon.aws.operators.sagemaker",
    "airflow.providers.amazon.aws.sensors.sagemaker",
    "airflow.providers.amazon.aws.triggers.sagemaker",
    "airflow.providers.amazon.aws.triggers.sqs",  # the new-data DAG's asset watcher
    "airflow.providers.amazon.aws.utils.mixins",
    "airflow.providers.amazon.aws.utils.sagemaker",
    "airflow.providers.standard.operators.branch",
    "airflow.providers.standard.operators.hitl",  # review_model
    "tomllib",  # the DAG file reads each pipeline's declaration
)
# The AWS APIs the tasks call: their models, endpoint rules and retry settings are parsed here.
TASK_SERVICES = ("sagemaker", "s3", "sns", "logs")

_preloaded: Preloaded | None = None


@dataclass(frozen=True)
class Preloaded:
    modules: int
    services: int
    seconds: float
    skipped: tuple[str, ...] = ()  # what could not be loaded: each task loads it itself, as without preloading

    def __str__(self) -> str:
        loaded = (f"local speed-ups: preloaded {self.modules} modules and {self.services} AWS service "
                  f"models for the tasks this process forks, in {self.seconds:.1f} s")
        return loaded + (f"; not preloaded: {'; '.join(self.skipped)}" if self.skipped else "")


def forks_tasks(argv: Sequence[str], executors: str) -> bool:
    """Whether this Airflow command forks task processes: the scheduler of a LocalExecutor, a Celery worker."""
    command = tuple(argv[1:3])
    if command[:1] == ("scheduler",):
        return any(name.strip().rsplit(".", 1)[-1] == "LocalExecutor" for name in executors.split(","))
    return command == ("celery", "worker")


def preload_for_forked_tasks(argv: Sequence[str] | None = None) -> Preloaded | None:
    """Load what the tasks need, once per process, when this process forks tasks; what was loaded.

    Nothing here may stop Airflow from starting: what fails to load (a module a later Airflow or
    provider moved, say) is left to the tasks, and named in the result."""
    global _preloaded
    from airflow.configuration import conf

    if _preloaded is not None:
        return _preloaded
    if not forks_tasks(sys.argv if argv is None else argv, conf.get("core", "executor", fallback="")):
        return None
    started = time.perf_counter()
    skipped, modules, services = [], 0, 0
    for name in TASK_MODULES:
        try:
            importlib.import_module(name)
            modules += 1
        except Exception as error:  # whatever it is, the task meets it itself when it imports the module
            skipped.append(f"{name} ({type(error).__name__}: {error})")
    try:
        _parse_service_models()
        services = len(TASK_SERVICES)
    except Exception as error:  # as above: each task parses the models itself
        skipped.append(f"service models ({type(error).__name__}: {error})")
    _preloaded = Preloaded(modules, services, time.perf_counter() - started, tuple(skipped))
    return _preloaded


def _parse_service_models() -> None:
    """Make one client per service on the shared loader: no request is sent, every data file is parsed."""
    import botocore.session

    from .shared_models import with_shared_loader

    session = with_shared_loader(botocore.session.get_session())
    for service in TASK_SERVICES:
        session.create_client(service, region_name="us-east-1", aws_access_key_id="preload",
                              aws_secret_access_key="preload")  # never sent: no request is made
