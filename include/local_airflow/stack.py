"""`make airflow`: the docker-compose stack, natively: Airflow 3 (SQLite, LocalExecutor) and the endpoint.

Starts the local SageMaker endpoint, prepares the Airflow home (DB, pool, sample data, the
connection and the Variables as env vars), then the api-server, scheduler, dag-processor and
triggerer, each in its own process group on loopback; prints the UI address and the login, and
stops everything on Ctrl-C or SIGTERM. `LocalAirflowStack` is also what the UI and backfill
tests start, on free ports.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import IO

from include.local_airflow.environment import PROJECT_ROOT, airflow_environment, prepare_metadata_db

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
ADMIN_USER = "admin"
TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:ml-pipeline-notifications"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _kill_group(process_group: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process_group, signal.SIGKILL)


def wait_for_http(url: str, timeout: float, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the process serving {url} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


class LocalAirflowStack:
    """The endpoint and the four Airflow components, started and stopped together."""

    def __init__(self, home: Path, api_port: int = 0, endpoint_port: int = 0, poll_seconds: float = 2,
                 seed_days: int = 14) -> None:
        self.home = home
        self.api_port = api_port or free_port()
        self.endpoint_port = endpoint_port or free_port()
        self.poll_seconds = poll_seconds
        self.seed_days = seed_days
        self.password = secrets.token_urlsafe(12)
        self.processes: dict[str, subprocess.Popen] = {}
        self._logs: list[IO[str]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.endpoint_port}"

    def environment(self) -> dict[str, str]:
        env = airflow_environment(self.home, self.endpoint_url, sns_topic_arn=TOPIC_ARN, poll_seconds=self.poll_seconds)
        env.update({
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",  # as in docker-compose.yaml
            # Several processes write one SQLite file: savepoints run inside a transaction.
            "AIRFLOW__DATABASE__SQL_ALCHEMY_SESSION_MAKER": "include.local_airflow.sqlite_settings.session_maker",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
            "AIRFLOW__API__PORT": str(self.api_port),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__BASE_URL": self.url,
            "AIRFLOW__API_AUTH__JWT_SECRET": self._jwt_secret(),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.home / "passwords.json"),
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "AIRFLOW__CORE__PARALLELISM": "8",  # LocalExecutor forks this many workers up front; 3 runs at once use at most 6
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        })
        return env

    def _jwt_secret(self) -> str:
        secret_file = self.home / "jwt-secret"
        if not secret_file.exists():
            self.home.mkdir(parents=True, exist_ok=True)
            secret_file.write_text(secrets.token_hex(32))
            secret_file.chmod(0o600)
        return secret_file.read_text()

    def _start(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = (self.home / "logs").joinpath(f"{name}.log").open("a")
        self._logs.append(log)
        process = subprocess.Popen(command, env={**os.environ, **env}, cwd=PROJECT_ROOT, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        self.processes[name] = process
        return process

    def start(self, timeout: float = 120) -> None:
        (self.home / "logs").mkdir(parents=True, exist_ok=True)
        env = self.environment()
        endpoint = self._start("local-sagemaker", [sys.executable, "-m", "include.local_sagemaker", "--host",
                                                   "127.0.0.1", "--port", str(self.endpoint_port)], env)
        prepare_metadata_db(env)
        (self.home / "passwords.json").write_text(json.dumps({ADMIN_USER: self.password}))
        (self.home / "passwords.json").chmod(0o600)
        wait_for_http(f"{self.endpoint_url}/moto-api/", timeout, endpoint)
        subprocess.run([sys.executable, "-m", "include.local_airflow.seed_local_stack", "--endpoint-url",
                        self.endpoint_url, "--days", str(self.seed_days)], env={**os.environ, **env},
                       cwd=PROJECT_ROOT, check=True, capture_output=True)
        airflow = str(Path(sys.executable).with_name("airflow"))
        for component in COMPONENTS:
            args = ["--port", str(self.api_port), "--host", "127.0.0.1"] if component == "api-server" else []
            self._start(component, [airflow, component, *args], env)
        wait_for_http(f"{self.url}/api/v2/version", timeout, self.processes["api-server"])

    def stop(self, grace_seconds: float = 30) -> None:
        """Stop in reverse order of start (the components before the API they report to, the
        endpoint last). SIGTERM goes to each main process only, as `docker stop` does: the
        scheduler then ends its LocalExecutor workers itself (signalling the workers too can
        kill one holding the queue's lock and hang the scheduler's shutdown). What outlives
        the grace period, and anything a component left behind, gets SIGKILL."""
        waves = [[n for n in reversed(COMPONENTS) if n != "api-server"], ["api-server"], ["local-sagemaker"]]
        for wave in waves:
            running = [self.processes[name] for name in wave if name in self.processes]
            for process in running:
                if process.poll() is None:
                    process.terminate()
            deadline = time.monotonic() + grace_seconds
            for process in running:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                _kill_group(process.pid)  # what outlived the grace period, or leftovers of a clean exit
                process.wait()
        for log in self._logs:
            log.close()

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
    parser = argparse.ArgumentParser(prog="python -m include.local_airflow.stack", description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=PROJECT_ROOT / ".airflow", help="Airflow home (kept between runs)")
    parser.add_argument("--port", type=int, default=8080, help="the UI / API port")
    parser.add_argument("--endpoint-port", type=int, default=4566)
    options = parser.parse_args(argv)
    stack = LocalAirflowStack(options.home.resolve(), options.port, options.endpoint_port)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # so that the finally below runs
    try:
        print(f"Starting Airflow in {stack.home} (logs in {stack.home / 'logs'}) ...", flush=True)
        stack.start()
        print(f"\nAirflow UI   {stack.url}\nLogin        {ADMIN_USER} / {stack.password}\n"
              f"SageMaker    {stack.endpoint_url} (local endpoint)\nCtrl-C stops everything.", flush=True)
        while all(process.poll() is None for process in stack.processes.values()):
            time.sleep(1)
        failed = [name for name, process in stack.processes.items() if process.poll() is not None]
        print(f"Stopped: {', '.join(failed)} exited; see {stack.home / 'logs'}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        print("Stopping ...", flush=True)
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
