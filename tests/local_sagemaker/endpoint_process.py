"""The endpoint as a user runs it (`python -m devtools.local_sagemaker`), for tests of restarts and faults.

Each endpoint binds 127.0.0.1 on a free port; its output is drained by a thread (a full pipe
would block it) and kept for the failure message; `endpoint_processes` (conftest.py) kills
whatever a test leaves running.
"""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 90.0
STOP_TIMEOUT_SECONDS = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def endpoint_command(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "devtools.local_sagemaker", *arguments]


class EndpointProcess:
    def __init__(self, arguments: list[str], env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            endpoint_command("--port", str(self.port), *arguments), cwd=ROOT, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self.lines: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._drain, daemon=True).start()
        self.ready_line = self._wait_ready()

    def _drain(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            self._lines.put(line)
        self._lines.put(None)

    def _wait_ready(self) -> str:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            try:
                line = self._lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            if "ready at" in line:
                return line
        self.kill()
        raise AssertionError(f"the endpoint did not become ready:\n{self.output()}")

    def output(self) -> str:
        return "".join(self.lines)

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.url, region_name="us-east-1")

    def stop(self) -> int:
        """SIGTERM, as a user's Ctrl-C or `docker stop`; the exit code."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(STOP_TIMEOUT_SECONDS)

    def kill(self) -> None:
        """SIGKILL: no clean-up runs in the endpoint."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(STOP_TIMEOUT_SECONDS)


def run_endpoint(*arguments: str, timeout: float = START_TIMEOUT_SECONDS) -> subprocess.CompletedProcess[str]:
    """An endpoint start expected to be refused: its exit code and output."""
    return subprocess.run(endpoint_command("--port", str(free_port()), *arguments), cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def process_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def processes_whose_cmdline_has(token: str) -> list[int]:
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/cmdline", "rb") as handle:
                if token.encode() in handle.read():
                    found.append(int(entry.name))
        except OSError:
            continue
    return [pid for pid in found if pid != os.getpid() and process_alive(pid)]


def wait_until(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll `condition` until it is truthy; AssertionError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"after {timeout} s: {what}")
        time.sleep(0.1)
