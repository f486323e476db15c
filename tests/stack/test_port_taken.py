"""`make airflow` with the endpoint's port taken by another program: refused at once, naming the port; nothing seeded."""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from devtools.local_airflow.stack import PortTaken, free_port, wait_for_own_endpoint
from tests.conftest import PROJECT_ROOT


class AnswersEverything(http.server.BaseHTTPRequestHandler):
    """Another program: it answers every path, the endpoint's readiness and identity paths included."""

    def do_GET(self) -> None:
        body = json.dumps({"pid": 1, "work_dir": "/elsewhere"}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def other_program() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), AnswersEverything)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_a_taken_endpoint_port_stops_the_start_before_anything_is_started_or_written(other_program: int,
                                                                                      tmp_path: Path) -> None:
    home = tmp_path / "home"
    completed = subprocess.run(
        [sys.executable, "-m", "devtools.local_airflow.stack", "--home", str(home), "--port", str(free_port()),
         "--endpoint-port", str(other_program)], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)

    assert completed.returncode == 1
    assert (f"Port {other_program} on 127.0.0.1, for the local SageMaker endpoint, is taken by another program: stop "
            "it, or choose another port with --endpoint-port (make airflow PORT=...)") in completed.stderr
    assert completed.stdout.rstrip().endswith("Stopped.")
    assert not (home / "postgres").exists() and not (home / "endpoint").exists()  # nothing started, nothing seeded


def test_an_endpoint_that_is_not_the_one_started_is_refused(other_program: int) -> None:
    started = SimpleNamespace(pid=4242, running=lambda: True, popen=None)
    with pytest.raises(PortTaken, match=rf"http://127.0.0.1:{other_program} is served by another program \(pid 1\), "
                                        r"not the endpoint this stack started \(pid 4242\)"):
        wait_for_own_endpoint(f"http://127.0.0.1:{other_program}", started, timeout=10)


def test_the_stacks_help_says_the_default_ports() -> None:
    completed = subprocess.run([sys.executable, "-m", "devtools.local_airflow.stack", "--help"], cwd=PROJECT_ROOT,
                               capture_output=True, text=True, timeout=60)
    assert "(default: 4566)" in completed.stdout and "(default: 8080)" in completed.stdout
