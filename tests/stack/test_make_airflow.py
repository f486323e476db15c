"""`make airflow` as a person runs it: it prints the UI address and the login, and Ctrl-C stops everything."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

import psutil
import pytest

from devtools.local_airflow.environment import PROJECT_ROOT
from devtools.local_airflow.processes import alive
from devtools.local_airflow.stack import ADMIN_USER, COMPONENTS, free_port


def read_until(process: subprocess.Popen, pattern: str, timeout: float) -> tuple[re.Match, str]:
    """The command's output up to the first line matching `pattern`."""
    deadline, seen = time.monotonic() + timeout, ""
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        seen += line
        if match := re.search(pattern, seen, re.MULTILINE):
            return match, seen
    raise AssertionError(f"no {pattern!r} in the output within {timeout:.0f} s:\n{seen}")


def process_groups_alive(groups: list[int]) -> list[int]:
    alive = []
    for group in groups:
        try:
            os.killpg(group, 0)
            alive.append(group)
        except ProcessLookupError:
            pass
    return alive


@pytest.mark.timeout(300)
def test_make_airflow_prints_a_working_login_and_ctrl_c_stops_every_process(stack_home) -> None:
    command = [sys.executable, "-m", "devtools.local_airflow.stack", "--home", str(stack_home),
               "--port", str(free_port()), "--endpoint-port", str(free_port())]
    # Its own process group, like a shell job: Ctrl-C signals the whole foreground group.
    make_airflow = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    text=True, start_new_session=True)
    try:
        banner, output = read_until(make_airflow, r"^Login +(\S+) / (\S+)$", timeout=180)
        url = re.search(r"^Airflow UI +(http://127\.0\.0\.1:\d+)$", output, re.MULTILINE).group(1)
        assert banner.group(1) == ADMIN_USER
        token_request = urllib.request.Request(
            f"{url}/auth/token", method="POST", headers={"Content-Type": "application/json"},
            data=json.dumps({"username": banner.group(1), "password": banner.group(2)}).encode())
        with urllib.request.urlopen(token_request, timeout=10) as response:
            assert json.loads(response.read())["access_token"]

        children = subprocess.run(["ps", "-o", "pid=,args=", "--ppid", str(make_airflow.pid)],
                                  capture_output=True, text=True, check=True).stdout.splitlines()
        component_groups = [int(line.split()[0]) for line in children]  # each started in its own group
        assert len(component_groups) == 2 + len(COMPONENTS), children  # the endpoint, Postgres, Airflow
        everything = psutil.Process(make_airflow.pid).children(recursive=True)  # Postgres' backends, workers...

        os.killpg(make_airflow.pid, signal.SIGINT)
        rest = make_airflow.communicate(timeout=120)[0]
    finally:
        if make_airflow.poll() is None:
            os.killpg(make_airflow.pid, signal.SIGKILL)
            make_airflow.wait()
    assert make_airflow.returncode == 0, output + rest
    assert "Stopping" in rest
    assert process_groups_alive(component_groups) == []
    assert alive(everything) == []
