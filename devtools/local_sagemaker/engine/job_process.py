"""Run one job's process: its output goes line by line to a log file and CloudWatch Logs."""

from __future__ import annotations

import collections
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..orphans import die_with_endpoint
from . import preloaded_python
from .preloaded_python import ForkedProcess
from .sandbox import JobCommand

STOP_GRACE_SECONDS = 5.0
_FLUSH_SECONDS = 1.0


class CloudWatchStream:
    """Buffers log lines and sends them in batches to one CloudWatch Logs stream.

    Sending is best effort: a line Logs cannot take (an empty one: PutLogEvents wants messages of
    1 character or more) is left out, an over-long one is cut into events Logs takes, and a batch
    Logs refuses is reported through `report` and dropped. A job's log is never the reason it fails,
    nor does it hide the reason it failed; its log file keeps every line.
    """

    def __init__(self, logs: Any, group: str, stream: str) -> None:
        self._logs, self.group, self.stream = logs, group, stream
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._last_flush = time.monotonic()
        self.report: Callable[[str], None] = _report_to_stderr
        with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
            logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName=stream)

    def write(self, line: str) -> None:
        events = log_events(line, int(time.time() * 1000))
        with self._lock:
            self._pending.extend(events)
            due = time.monotonic() - self._last_flush >= _FLUSH_SECONDS
        if due:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
            self._last_flush = time.monotonic()
        for events in _batches(batch):
            try:
                self._logs.put_log_events(logGroupName=self.group, logStreamName=self.stream, logEvents=events)
            except Exception as error:  # Logs refused the batch, or the endpoint is stopping
                self.report(f"{len(events)} line(s) not sent to CloudWatch Logs {self.group}/{self.stream}: "
                            f"{type(error).__name__}: {error}")


# PutLogEvents' limits: 256 KB an event and 1 MB a batch, each counting 26 bytes per event besides the
# message; 10,000 events a batch.
EVENT_OVERHEAD_BYTES = 26
MAX_EVENT_BYTES = 256 * 1024 - EVENT_OVERHEAD_BYTES
MAX_BATCH_BYTES = 1024 * 1024
MAX_BATCH_EVENTS = 10_000


def log_events(line: str, timestamp: int) -> list[dict[str, Any]]:
    """The CloudWatch Logs events of one line: none for an empty line, several for one over 256 KB."""
    data = line.encode("utf-8", errors="replace")
    events = []
    while data:
        # A character cut in two at the limit goes whole into the next event.
        message = data[:MAX_EVENT_BYTES].decode("utf-8", errors="ignore")
        events.append({"timestamp": timestamp, "message": message})
        data = data[len(message.encode("utf-8")):]
    return events


def _batches(events: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    size = 0
    for event in events:
        event_size = len(event["message"].encode("utf-8")) + EVENT_OVERHEAD_BYTES
        if batch and (size + event_size > MAX_BATCH_BYTES or len(batch) >= MAX_BATCH_EVENTS):
            yield batch
            batch, size = [], 0
        batch.append(event)
        size += event_size
    if batch:
        yield batch


def _report_to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class JobProcess:
    """A job's process group: started, logged, waited for, stopped."""

    def __init__(self, log_file: Path, cloudwatch: CloudWatchStream | None, tail_lines: int = 20,
                 on_line: Callable[[str], None] | None = None, *, preloaded: bool = False) -> None:
        """`on_line` hears every line the process prints, after it is logged (a model server's "ready" line).
        `preloaded`: a Python script may be forked from the preloaded interpreter (preloaded_python.py)."""
        self.log_file = log_file
        self.preloaded = preloaded
        self.on_line = on_line
        self.cloudwatch = cloudwatch
        if cloudwatch:  # what cannot be sent to Logs is said in the log file, never raised
            cloudwatch.report = self._log_file_only
        self.tail: collections.deque[str] = collections.deque(maxlen=tail_lines)
        self._process: subprocess.Popen[bytes] | ForkedProcess | None = None
        self.started = threading.Event()  # set once the process exists (its pid known)
        self._stopped = threading.Event()
        self.timed_out = False
        self._lock = threading.Lock()

    def log(self, line: str) -> None:
        """Write one line to the job's log (engine notes use the same stream as the job)."""
        line = line.rstrip("\n")
        with self.log_file.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
        if self.cloudwatch:
            self.cloudwatch.write(line)

    def _log_file_only(self, line: str) -> None:
        with self.log_file.open("a", encoding="utf-8") as handle:
            handle.write(f"[local endpoint] {line}\n")

    def run(self, command: JobCommand, timeout: float | None) -> int:
        """Run to completion and return the exit code (negative for a signal)."""
        if self._stopped.is_set():
            return -signal.SIGTERM
        process, how = _start(command, self.preloaded)  # not under the lock: a stop meanwhile is not held up
        with self._lock:
            self._process = process
        self.started.set()
        if how:
            self.log(how)
        if self._stopped.is_set():  # stopped while it started: it ends now
            self._terminate()
        timer = threading.Timer(timeout, self._expire) if timeout else None
        if timer:
            timer.daemon = True
            timer.start()
        try:
            assert self._process.stdout is not None
            for raw in self._process.stdout:
                line = raw.decode("utf-8", errors="replace").rstrip("\n")
                self.tail.append(line)
                self.log(line)
                if self.on_line:
                    self.on_line(line)
            return self._process.wait()
        finally:
            if timer:
                timer.cancel()
            if self.cloudwatch:
                self.cloudwatch.flush()

    @property
    def pid(self) -> int | None:
        with self._lock:
            return self._process.pid if self._process else None

    @property
    def was_stopped(self) -> bool:
        return self._stopped.is_set()

    def stop(self) -> None:
        """StopPipelineExecution: end the job; run() then returns a signal exit code."""
        with self._lock:
            self._stopped.set()
        self._terminate()

    def _expire(self) -> None:
        self.timed_out = True
        self._terminate()

    def _terminate(self) -> None:
        """End the whole process group: SIGTERM, then SIGKILL after a grace period."""
        with self._lock:
            process = self._process
        if process is None or process.poll() is not None:
            return
        signal_group(process.pid, signal.SIGTERM)
        try:
            process.wait(STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            signal_group(process.pid, signal.SIGKILL)
            process.wait()


def _start(command: JobCommand, preloaded: bool) -> tuple[subprocess.Popen[bytes] | ForkedProcess, str | None]:
    """Forked from the preloaded interpreter when allowed and the job allows it, else a process of its own;
    and how it started, for the job's log."""
    forked = preloaded_python.fork(command, lambda: python_environment({})) if preloaded else None
    if isinstance(forked, ForkedProcess):
        return forked, f"Forked from the endpoint's preloaded Python ({', '.join(forked.preloaded)} imported)"
    process = subprocess.Popen(
        command.process_argv(), env=command.env, cwd=command.root, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        # The job dies with this thread, so with the endpoint, even a SIGKILLed one (orphans.py).
        preexec_fn=die_with_endpoint(),
    )
    return process, f"Not forked from the preloaded Python: {forked}" if forked else None


def signal_group(pid: int, sig: signal.Signals) -> None:
    """Signal a job's process group; the process alone while a forked job has no session of its own yet."""
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:  # a forked job not yet in a session of its own: the process itself
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def python_environment(extra: dict[str, str]) -> dict[str, str]:
    """The environment of a job process: this interpreter's PATH first, unbuffered output."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    # OpenMP (XGBoost, scikit-learn) spins its idle threads for a while by default. Beside a process that
    # keeps a core busy (Airflow, the endpoint, other jobs: the setting this endpoint runs in) XGBoost's
    # 200 rounds took 2.1-2.8x longer spinning than sleeping; alone on the machine, sleeping costs 0.6 s
    # on 1,400 rows and 1.17x on 210,000 (tests/perf/test_openmp_wait_policy.py). A job's own
    # Environment (or the shell) still chooses.
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    env.update(extra)
    return env
