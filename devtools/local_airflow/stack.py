"""`make airflow`: the docker-compose stack, natively, on the parts production uses.

A private PostgreSQL server in the home (local_postgres.py), the local SageMaker endpoint, then
Airflow 3: api-server (UI and execution API on 127.0.0.1), scheduler, dag-processor, triggerer, with
the LocalExecutor, or `--executor celery`: a private Redis (local_redis.py) and two Celery
workers. The metadata DB gets the pools, the Variables and `aws_default` when they are absent
(metadata_seed.py), the endpoint its sample partitions and SNS topic. Nothing listens beyond
loopback: Postgres and Redis on unix sockets only, the API and the endpoint on 127.0.0.1, and
Airflow's log servers are not started (every component writes the one logs/ folder the API reads;
Airflow gives them no bind address, they would listen on every interface).

Each process runs in a session of its own and is stopped in order on Ctrl-C, SIGTERM or SIGHUP,
the servers last (processes.py: nothing is left behind, even when this process dies hard).
`LocalAirflowStack` is also what the stack tests start, on free ports.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from devtools.local_airflow.environment import (
    FAULT_RECOVERY,
    PROJECT_ROOT,
    PROMPT_TASK_ENDS,
    airflow_environment,
    aws_connection,
    stack_variables,
)
from devtools.local_airflow.local_postgres import LocalPostgres
from devtools.local_airflow.local_redis import LocalRedis
from devtools.local_airflow.processes import ManagedProcess, ProcessSet
from devtools.local_airflow.restart_policy import RestartPolicy

EXECUTORS = {"local": "LocalExecutor", "celery": "CeleryExecutor"}
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
CELERY_WORKERS = ("celery-worker-1", "celery-worker-2")
CELERY_APP = "airflow.providers.celery.executors.celery_executor.app"
ENDPOINT = "local-sagemaker"
ADMIN_USER = "admin"
TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:ml-pipeline-notifications"


# Airflow reads AIRFLOW_CONN_*/AIRFLOW_VAR_* before its DB: inherited from the shell (or a test
# session), they would silently shadow the stack's own connection and Variables, and an
# aws_default without endpoint_url would send the local stack's calls to real AWS.
SHADOWING_PREFIXES = ("AIRFLOW_CONN_", "AIRFLOW_VAR_")


def inherited_environment() -> dict[str, str]:
    """This process's environment without the connections and Variables that would shadow the DB's."""
    return {name: value for name, value in os.environ.items() if not name.startswith(SHADOWING_PREFIXES)}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_http(url: str, timeout: float, process: ManagedProcess | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and not process.running():
            raise RuntimeError(f"the process serving {url} exited with {process.popen.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


class PortTaken(RuntimeError):
    """A port the stack needs is in use by another program; the message names it and how to choose another."""


def refuse_a_taken_port(port: int, what: str, option: str) -> None:
    with socket.socket() as probe:
        # As the servers bind: a port whose last connections are closing (TIME_WAIT) is free to them.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise PortTaken(f"Port {port} on 127.0.0.1, for {what}, is taken by another program: stop it, or choose "
                            f"another port with {option}. Nothing was started or changed.") from None


def wait_for_own_endpoint(url: str, endpoint: ManagedProcess, timeout: float) -> None:
    """Wait until the endpoint answering at `url` is the process `endpoint` (its identity names its pid)."""
    from devtools.local_sagemaker.identity import IDENTITY_PATH

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not endpoint.running():
            raise RuntimeError(f"the local SageMaker endpoint exited with {endpoint.popen.returncode} before serving "
                               f"{url}: see its log")
        try:
            with urllib.request.urlopen(url + IDENTITY_PATH, timeout=2) as answer:
                pid = json.loads(answer.read()).get("pid")
        except (OSError, ValueError):
            time.sleep(0.3)
            continue
        if pid != endpoint.pid:
            raise PortTaken(f"{url} is served by another program (pid {pid}), not the endpoint this stack started "
                            f"(pid {endpoint.pid}): nothing was seeded or changed")
        return
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


@contextmanager
def signals_held() -> Iterator[None]:
    """Ctrl-C, SIGTERM and SIGHUP wait until the block is done (main thread only): a stop is never left halfway."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, held)


class LocalAirflowStack:
    """Postgres, (Redis,) the endpoint and Airflow's components, started and stopped together."""

    def __init__(self, home: Path, api_port: int = 0, endpoint_port: int = 0, poll_seconds: float = 2,
                 seed_days: int = 14, executor: str = "local", airflow_endpoint_url: str | None = None) -> None:
        if executor not in EXECUTORS:
            raise ValueError(f"executor={executor!r}: expected one of {', '.join(EXECUTORS)}")
        self.home = home
        self.api_port = api_port or free_port()
        self.endpoint_port = endpoint_port or free_port()
        self.poll_seconds = poll_seconds
        self.seed_days = seed_days
        self.executor = executor
        # Where Airflow reaches the endpoint, when not directly (a test's fault-injecting proxy).
        self.airflow_endpoint_url = airflow_endpoint_url
        self.password = secrets.token_urlsafe(12)
        self.process_set = ProcessSet(home / "run" / "processes.json")
        self.postgres = LocalPostgres(home / "postgres", self.process_set)
        self.redis = LocalRedis(home / "redis", self.process_set) if executor == "celery" else None
        # As docker-compose.yaml's `restart: always`: an Airflow component that dies on its own comes back.
        self.restart_policy = RestartPolicy(self.process_set, self.airflow_processes, self.start_component)

    @property
    def processes(self) -> dict[str, subprocess.Popen]:
        """The running processes by name (the servers included)."""
        return {name: process.popen for name, process in self.process_set.processes.items()}

    @property
    def airflow_processes(self) -> tuple[str, ...]:
        return COMPONENTS + (CELERY_WORKERS if self.executor == "celery" else ())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.endpoint_port}"

    def environment(self) -> dict[str, str]:
        """Every Airflow process's configuration (and the CLI's, to work on this stack)."""
        env = airflow_environment(self.home, self.postgres.url())
        env.update(FAULT_RECOVERY)
        env.update(PROMPT_TASK_ENDS)
        env.update({
            "AIRFLOW__CORE__EXECUTOR": EXECUTORS[self.executor],
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",  # as in docker-compose.yaml
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
            "AIRFLOW__API__PORT": str(self.api_port),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__BASE_URL": self.url,
            "AIRFLOW__API_AUTH__JWT_SECRET": self._home_secret("jwt-secret", lambda: secrets.token_hex(32)),
            # Connections' passwords and extras encrypted in the DB, as a deployment has them.
            "AIRFLOW__CORE__FERNET_KEY": self._home_secret("fernet-key", _fernet_key),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.home / "passwords.json"),
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "AIRFLOW__CORE__PARALLELISM": "8",  # LocalExecutor forks this many workers up front; 3 runs at once use at most 6
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "SAGEMAKER_PIPELINES_LATE_RUN_ALERTS": "true",  # a scheduler runs the deadlines (dags test cannot)
            # A process that crashes in C (the api-server has, in libpython) writes its Python stacks to its log.
            "PYTHONFAULTHANDLER": "1",
        })
        if self.redis is not None:
            env.update({
                "AIRFLOW__CELERY__BROKER_URL": self.redis.broker_url,
                "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + self.postgres.url(),
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": "4",
            })
        return env

    def process_environment(self) -> dict[str, str]:
        """What every process of the stack runs with: this one's environment, less what would shadow the DB."""
        return {**inherited_environment(), **self.environment()}

    def _home_secret(self, name: str, make: Callable[[], str]) -> str:
        """A secret generated on first use and kept in the home (0600): the DB's data stays readable."""
        secret_file = self.home / name
        if not secret_file.exists():
            self.home.mkdir(parents=True, exist_ok=True)
            secret_file.touch(mode=0o600)
            secret_file.write_text(make())
        return secret_file.read_text()

    def _start(self, name: str, command: list[str]) -> ManagedProcess:
        return self.process_set.start(name, command, env=self.process_environment(), cwd=PROJECT_ROOT,
                                      log_path=self.home / "logs" / f"{name}.log")

    def start(self, timeout: float = 180) -> None:
        """Start everything; the endpoint is proven to be the one started here before anything is seeded or
        written that points at it (a taken port is refused at once, naming it)."""
        self.home.mkdir(parents=True, exist_ok=True)
        for leftover in self.process_set.end_leftovers():
            print(f"Ended {leftover}, left running by a previous stack in {self.home}", flush=True)
        refuse_a_taken_port(self.endpoint_port, "the local SageMaker endpoint", "--endpoint-port (make airflow PORT=...)")
        refuse_a_taken_port(self.api_port, "the Airflow UI and API", "--port")
        endpoint = self.start_component(ENDPOINT)
        self.postgres.start()
        if self.redis is not None:
            self.redis.start()
        wait_for_own_endpoint(self.endpoint_url, endpoint, timeout)
        env = self.process_environment()
        metadata = subprocess.Popen(self._metadata_seed_command(), env=env, cwd=PROJECT_ROOT, text=True,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        (self.home / "passwords.json").write_text(json.dumps({ADMIN_USER: self.password}))
        (self.home / "passwords.json").chmod(0o600)
        subprocess.run([sys.executable, "-m", "devtools.local_airflow.seed_local_stack", "--endpoint-url",
                        self.endpoint_url, "--days", str(self.seed_days)], env=env, cwd=PROJECT_ROOT, check=True,
                       capture_output=True)
        output = metadata.communicate(timeout=timeout)[0]
        if metadata.returncode != 0:
            raise RuntimeError(f"preparing the metadata DB failed ({metadata.returncode}):\n{output[-3000:]}")
        for line in output.splitlines():
            if line.startswith("Connection "):
                print(line, flush=True)  # a kept aws_default that points elsewhere
        for name in self.airflow_processes:
            self.start_component(name)
        wait_for_http(f"{self.url}/api/v2/version", timeout, self.process_set.processes["api-server"])
        self.restart_policy.start()

    @property
    def crashes(self) -> list[str]:
        """The Airflow components that died on their own and were started again, each with its log's account."""
        return self.restart_policy.crashes

    def _metadata_seed_command(self) -> list[str]:
        variables = stack_variables(TOPIC_ARN, self.poll_seconds)
        connection = aws_connection(self.airflow_endpoint_url or self.endpoint_url)
        return [sys.executable, "-m", "devtools.local_airflow.metadata_seed", "--variables", json.dumps(variables),
                "--aws-connection", json.dumps(connection)]

    def start_component(self, name: str) -> ManagedProcess:
        """Start the endpoint or one Airflow process (again, after a crash: the fault tests restart what they killed)."""
        airflow = str(Path(sys.executable).with_name("airflow"))
        commands = {
            ENDPOINT: [sys.executable, "-m", "devtools.local_sagemaker", "--host", "127.0.0.1", "--port",
                       str(self.endpoint_port), "--work-dir", str(self.home / "endpoint")],
            "api-server": [airflow, "api-server", "--port", str(self.api_port), "--host", "127.0.0.1"],
            "scheduler": [airflow, "scheduler", "--skip-serve-logs"],
            "dag-processor": [airflow, "dag-processor"],
            "triggerer": [airflow, "triggerer", "--skip-serve-logs"],
            **{worker: [airflow, "celery", "worker", "--skip-serve-logs", "--celery-hostname", f"{worker}@%h"]
               for worker in CELERY_WORKERS},
        }
        return self._start(name, commands[name])

    def kill(self, name: str) -> None:
        """SIGKILL one process and all it started: a crash, as when its container dies."""
        self.process_set.kill(name)

    def stop(self, grace_seconds: float = 30) -> None:
        """Stop in reverse order of start: the components and workers before the API they report to,
        then the endpoint, the servers last. SIGTERM goes to each main process only, as `docker stop`
        does (the scheduler ends its LocalExecutor workers itself); Postgres gets SIGINT (fast
        shutdown). What outlives the grace period, and whatever a component left, gets SIGKILL."""
        waves = [[n for n in self.airflow_processes if n != "api-server"], ["api-server"], [ENDPOINT],
                 ["redis", "postgres"]]
        self.restart_policy.halt()
        with signals_held():
            for wave in waves:
                self.process_set.stop(wave, grace_seconds)
        self.restart_policy.join()

    def __enter__(self) -> LocalAirflowStack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.local_airflow.stack", description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--home", type=Path, default=PROJECT_ROOT / ".airflow", help="Airflow home (kept between runs)")
    parser.add_argument("--port", type=int, default=8080, help="the UI / API port, on 127.0.0.1")
    parser.add_argument("--endpoint-port", type=int, default=4566, help="the local SageMaker endpoint's port, on 127.0.0.1")
    parser.add_argument("--executor", choices=sorted(EXECUTORS), default="local",
                        help="local: LocalExecutor (default); celery: CeleryExecutor, Redis and two workers")
    options = parser.parse_args(argv)
    stack = LocalAirflowStack(options.home.resolve(), options.port, options.endpoint_port, executor=options.executor)
    for stopping in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(stopping, lambda *_: sys.exit(0))  # so that the finally below runs
    if ignored := sorted(name for name in os.environ if name.startswith(SHADOWING_PREFIXES)):
        print(f"Ignoring {', '.join(ignored)} from this shell: the stack's connection and Variables live in its "
              "metadata DB (edit them in the UI)", flush=True)
    try:
        print(f"Starting Airflow ({EXECUTORS[stack.executor]}) in {stack.home} (logs in {stack.home / 'logs'}) ...",
              flush=True)
        stack.start()
        print(f"\nAirflow UI   {stack.url}\nLogin        {ADMIN_USER} / {stack.password}\n"
              f"SageMaker    {stack.endpoint_url} (local endpoint)\n"
              f"Metadata DB  {stack.postgres.url()}\nCtrl-C stops everything.", flush=True)
        servers = [name for name in stack.processes if name not in stack.airflow_processes]  # not restarted

        def ended() -> list[str]:
            watcher = set() if stack.restart_policy.watching else {"the restart policy's watcher"}
            return sorted({name for name in servers if stack.processes[name].poll() is not None}
                          | stack.restart_policy.given_up | watcher)

        while not ended():
            time.sleep(1)
        failed = ended()
        print(f"Stopped: {', '.join(failed)} exited; see {stack.home / 'logs'}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    except PortTaken as taken:
        print(taken, file=sys.stderr, flush=True)
        return 1
    finally:
        print("Stopping ...", flush=True)
        with suppress(KeyboardInterrupt):  # a second Ctrl-C, held during the stop, arrives after it
            stack.stop()
        print("Stopped.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
