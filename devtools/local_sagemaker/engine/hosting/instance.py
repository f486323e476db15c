"""One variant instance: a model server process in its sandbox, supervised, and the connections to it.

A supervisor thread per instance starts the process (containers/model_server.py, sandboxed like
a job, so the model sees /opt/ml), reads its output into the instance's log stream
(`<variant>/<instance id>` in /aws/sagemaker/Endpoints/<endpoint>), and marks the instance
ready once the server says where it listens and answers GET /ping, SageMaker's health check.
The process is started from that long-lived thread on purpose: it asks the kernel to kill it
when its starting thread ends (orphans.py), so it dies with the endpoint and never with a
request thread. When a serving process dies, the instance is replaced, as SageMaker replaces an
unhealthy instance: a new instance id, a fresh sandbox, a new log stream. A process that never
becomes ready fails the deployment with its log's last lines.

Invocations reuse keep-alive connections from a small pool; a connection that breaks because
the process is gone is InstanceUnavailable, which the fleet retries on another instance.
"""

from __future__ import annotations

import http.client
import secrets
import shutil
import socket
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from ..job_process import CloudWatchStream, JobProcess
from ..jobs.container import sandboxed_environment
from ..jobs.lifecycle import JobContext, failure_reason
from ..sandbox import Sandbox
from .model_archive import ModelArchive
from .serving_errors import DeploymentFailure, InstanceUnavailable

MODEL_SERVER = Path(__file__).resolve().parents[2] / "containers" / "model_server.py"
READY_PREFIX = "Model server listening on "  # what containers/model_server.py prints once it serves
PING_TIMEOUT_SECONDS = 2.0
MAX_REPLACEMENT_DELAY_SECONDS = 30.0


class ServerInstance:
    """Start with `start()`, wait with `wait_started()`, end with `stop()`; `invoke()` while `ready`."""

    def __init__(self, endpoint_name: str, variant_name: str, archive: ModelArchive, context: JobContext,
                 folder: Path, on_change: Callable[[], None]) -> None:
        self.endpoint_name = endpoint_name
        self.variant_name = variant_name
        self.archive = archive
        self.context = context
        self.folder = folder
        self.on_change = on_change  # the fleet hears when the instance becomes ready or stops being so
        self.log_group = f"/aws/sagemaker/Endpoints/{endpoint_name}"
        self.ready = False
        self.in_flight = 0  # guarded by the fleet's lock
        self.instance_id = ""
        self.replacements = 0
        self.failure: str | None = None
        self._port = 0
        self._became_ready = False
        self._started = threading.Event()
        self._stopping = threading.Event()
        self._process: JobProcess | None = None
        self._pool: list[http.client.HTTPConnection] = []
        self._pool_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process else None

    @property
    def log_stream(self) -> str:
        return f"{self.variant_name}/{self.instance_id}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._supervise, daemon=True,
                                        name=f"endpoint-{self.endpoint_name}-{self.variant_name}")
        self._thread.start()

    def wait_started(self, timeout: float) -> None:
        """Return once the instance passed its first health check; DeploymentFailure if it cannot."""
        if not self._started.wait(timeout):
            self.failure = f"no answer to the ping health check within {timeout:g} s"
        if self.failure or not self.ready:
            raise DeploymentFailure(self.failure or "the instance was stopped while it started")

    def stop(self, timeout: float = 30.0) -> None:
        self._stopping.set()
        self._set_ready(False)
        process = self._process
        if process:
            process.stop()
        if self._thread and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self._close_pool()
        shutil.rmtree(self.folder, ignore_errors=True)

    def flush_logs(self) -> None:
        process = self._process
        if process and process.cloudwatch:
            process.cloudwatch.flush()

    # --- the supervisor ----------------------------------------------------------------------
    def _supervise(self) -> None:
        first, delay = True, 1.0
        while not self._stopping.is_set():
            try:
                served = self._run_once()
            except Exception as error:  # the log stream cannot be made (the endpoint is stopping)...
                self.failure = f"InternalFailure: {type(error).__name__}: {error}"
                served = False
            if self._stopping.is_set():
                break
            if first and not served:
                self._started.set()  # with self.failure: the deployment fails
                return
            first = False
            self.replacements += 1
            if served:
                delay = 1.0
            elif self._stopping.wait(delay):  # a replacement that cannot start: retry, less and less often
                break
            else:
                delay = min(delay * 2, MAX_REPLACEMENT_DELAY_SECONDS)
        self._started.set()

    def _run_once(self) -> bool:
        """Run one server process to its end; True if it served (passed a health check) before it ended."""
        self.instance_id = f"i-{secrets.token_hex(8)}"
        self._became_ready = False
        sandbox = Sandbox(self.folder / self.instance_id / "opt_ml")
        clients = self.context.clients
        # Sending to Logs is best effort (CloudWatchStream): the server's output is always read, since a
        # full pipe would block the model server.
        process = JobProcess(self.folder / self.instance_id / "server.log",
                             CloudWatchStream(clients.logs, self.log_group, self.log_stream), on_line=self._heard)
        self._process = process
        try:
            self.archive.stage(sandbox)
        except DeploymentFailure as error:
            process.log(str(error))
            self.failure = str(error)
            return False
        container = self.archive.container
        argv = [sys.executable, str(MODEL_SERVER), "/opt/ml", container.mode, container.program]
        environment = sandboxed_environment(
            {**container.environment, "SM_MODEL_DIR": "/opt/ml/model", "SAGEMAKER_ENDPOINT_NAME": self.endpoint_name},
            clients.endpoint_url, self.context.region, self.context.work_dir)
        command = sandbox.command(argv, environment)
        process.log(command.note)
        process.log(f"Instance {self.instance_id} of variant {self.variant_name}: starting {container.image} ({container.mode})")
        exit_code = process.run(command, None)
        self._set_ready(False)
        self._close_pool()
        if not self._stopping.is_set():
            reason_file = sandbox.host_path("/opt/ml/output/failure")
            headline = f"The model server exited with code {exit_code}."
            if reason_file.is_file() and reason_file.read_text().strip():
                headline += " " + reason_file.read_text().strip()[:400]
            self.failure = failure_reason(headline, list(process.tail))
            verb = "is replaced" if self._became_ready else "could not start"
            process.log(f"Instance {self.instance_id}: the model server exited with code {exit_code}; the instance {verb}")
            shutil.rmtree(self.folder / self.instance_id, ignore_errors=True)
        self.flush_logs()
        return self._became_ready

    def _heard(self, line: str) -> None:
        """A line of the server's output (on the supervisor thread): the ready line starts the health check."""
        if not line.startswith(READY_PREFIX) or self._stopping.is_set():
            return
        self._port = int(line.rsplit(":", 1)[1])
        if self._ping():
            self._became_ready = True
            self.failure = None
            self._set_ready(True)
            self._started.set()
            self.flush_logs()

    def _ping(self) -> bool:
        connection = http.client.HTTPConnection("127.0.0.1", self._port, timeout=PING_TIMEOUT_SECONDS)
        try:
            connection.request("GET", "/ping")
            return connection.getresponse().status == 200
        except OSError:
            return False
        finally:
            connection.close()

    def _set_ready(self, ready: bool) -> None:
        if self.ready != ready:
            self.ready = ready
            self.on_change()

    # --- invocations --------------------------------------------------------------------------
    def invoke(self, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, str, bytes]:
        """POST /invocations: (status, content type, body). InstanceUnavailable if the process is gone;
        TimeoutError if it does not answer within `timeout`."""
        connection = self._connection(timeout)
        try:
            connection.request("POST", "/invocations", body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        except TimeoutError:
            connection.close()  # its answer may still come: the connection cannot be reused
            raise TimeoutError from None
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            raise InstanceUnavailable(f"instance {self.instance_id}: {type(error).__name__}: {error}") from None
        content_type = response.getheader("Content-Type") or "application/octet-stream"
        with self._pool_lock:
            self._pool.append(connection)
        return response.status, content_type, data

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        with self._pool_lock:
            connection = self._pool.pop() if self._pool else None
        if connection is None:
            connection = http.client.HTTPConnection("127.0.0.1", self._port, timeout=timeout)
            try:
                connection.connect()
            except OSError as error:
                raise InstanceUnavailable(f"instance {self.instance_id}: {error}") from None
            # http.client sends the headers and the body in two writes: without TCP_NODELAY the body waits
            # for the server's delayed ACK, 40 ms on every request of a kept-alive connection.
            connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connection.timeout = timeout
        if connection.sock is not None:
            connection.sock.settimeout(timeout)
        return connection

    def _close_pool(self) -> None:
        with self._pool_lock:
            pool, self._pool = self._pool, []
        for connection in pool:
            connection.close()
