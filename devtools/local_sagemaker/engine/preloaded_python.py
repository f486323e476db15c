"""Jobs' Python scripts started by forking a process that has their libraries imported (job_forker.py).

A processing or training step spent ~1.2 s of CPU importing pandas, scikit-learn and XGBoost, most
of its run on sample data; forked from the preloaded forker, it starts with them imported. The job
is otherwise the process `python <script>` would be (job_forker.py lists what it sets up), and it
is stopped, timed out and logged like one (JobProcess).

A job is forked only when that cannot change what it sees: its command is `<this python> <script>.py
...`, and it sets no variable that a library reads when it is imported (`IMPORT_TIME_VARIABLES`:
OpenMP and BLAS threads, PYTHONPATH, locale ...) to another value than the forker has. Any other job,
and every job while the forker cannot start (not Linux, LOCAL_SAGEMAKER_PRELOADED_JOBS=off), starts
a fresh interpreter as before.

One forker per endpoint work dir, started at the first job and stopped with the endpoint
(`stop_all`); it dies with the thread that started it and its jobs die with it, as orphans.py
has every job process die with the endpoint.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..orphans import JOB_MARKER, die_with_endpoint
from .job_forker import receive_message, send_message
from .sandbox import JobCommand

SWITCH = "LOCAL_SAGEMAKER_PRELOADED_JOBS"
IMPORT_TIME_VARIABLES = ("PYTHON", "OMP_", "GOMP_", "KMP_", "OPENBLAS_", "GOTO_", "MKL_", "NUMEXPR_", "BLIS_",
                         "LD_", "MALLOC_", "SKLEARN_", "JOBLIB_", "LOKY_", "XGBOOST_", "PANDAS_", "NPY_", "NUMPY_",
                         "SCIPY_", "LANG", "LC_", "TZ", "HOME")
FORKER = Path(__file__).with_name("job_forker.py")
READY_TIMEOUT_SECONDS = 120.0


def is_import_time(name: str) -> bool:
    return name.startswith(IMPORT_TIME_VARIABLES)


class ForkedProcess:
    """A forked job, with what JobProcess uses of a Popen: pid, stdout, poll(), wait()."""

    def __init__(self, stdout_fd: int, preloaded: list[str]) -> None:
        self.pid = 0  # set when the forker answers
        self.preloaded = preloaded
        self.stdout = os.fdopen(stdout_fd, "rb")
        self.returncode: int | None = None
        self._ended = threading.Event()

    def ended(self, code: int) -> None:
        self.returncode = code
        self._ended.set()

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if not self._ended.wait(timeout):
            raise subprocess.TimeoutExpired(f"forked job {self.pid}", timeout or 0)
        assert self.returncode is not None
        return self.returncode


class PreloadedPython:
    """The forker of one work dir: started on first use, then forks the jobs it is sent."""

    def __init__(self, environment: dict[str, str]) -> None:
        self.environment = environment
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        # Guards the waiting spawns, the children and `broken`: a spawn registered before the forker
        # broke is answered by _fail, none registers after.
        self._state_lock = threading.Lock()
        self._ready = threading.Event()
        self._control: socket.socket | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None
        self._next_id = 0
        self._replies: dict[int, tuple[threading.Event, dict[str, Any], ForkedProcess]] = {}
        self._children: dict[int, ForkedProcess] = {}
        self.preloaded: list[str] = []
        self.preloaded_environment: dict[str, str] = {}
        self.broken: str | None = None

    def refusal(self, command: JobCommand) -> str | None:
        """Why the job cannot be forked from this process; None if it can (the forker started, then)."""
        argv, env = command.argv, command.env
        if len(argv) < 2 or argv[0] != sys.executable or not argv[1].endswith(".py"):
            return "its command is not this Python running a .py script"
        if not self._wait_ready():
            return f"the preloaded Python is unavailable: {self.broken}"
        before, after = self.environment, self.preloaded_environment
        for name in sorted({name for name in (*env, *after) if is_import_time(name)}):
            # A variable the imports set themselves (setdefault) they would set in a new interpreter too.
            set_by_the_imports = name not in before and name not in env
            if env.get(name) != after.get(name) and not set_by_the_imports:
                return (f"it has {name}={env.get(name)!r} where the preloaded Python has {after.get(name)!r}, "
                        "a variable libraries read when they are imported")
        return None

    def _wait_ready(self) -> bool:
        self._start_once()
        return self._ready.wait(READY_TIMEOUT_SECONDS) and not self.broken and self._control is not None

    def spawn(self, command: JobCommand) -> ForkedProcess | None:
        """Fork the job; None if the forker is not available (the caller starts an interpreter)."""
        if not self._wait_ready():
            return None
        read_end, write_end = os.pipe()
        process = ForkedProcess(read_end, self.preloaded)
        answered = threading.Event()
        reply: dict[str, Any] = {}
        with self._state_lock:
            if self.broken:
                os.close(write_end)
                process.stdout.close()
                return None
            self._next_id += 1
            request_id = self._next_id
            self._replies[request_id] = (answered, reply, process)
        try:
            with self._send_lock:
                send_message(self._control, {"id": request_id, "argv": command.argv, "env": command.env,
                                             "cwd": str(command.root),
                                             "root": str(command.root) if command.namespace else None},
                             [write_end])
        except OSError as error:
            self._fail(f"the forker's socket failed: {error}")
        finally:
            os.close(write_end)
        answered.wait()
        if "pid" not in reply:
            process.stdout.close()
            return None
        return process

    def stop(self) -> None:
        """Close the control socket: the forker kills what is left of its jobs and exits (killed if it does not)."""
        with self._lock:
            control, process = self._control, self._process
        if control is not None:
            with contextlib.suppress(OSError):
                control.shutdown(socket.SHUT_RDWR)
        if process is not None:
            if control is None:  # still importing: nothing to tell it yet
                process.kill()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._thread is not None:
            self._thread.join(30)

    def _start_once(self) -> None:
        with self._lock:
            if self._thread is None:
                # The forker gets SIGKILL when the thread that started it ends: this one lives as long as it.
                self._thread = threading.Thread(target=self._run, name="preloaded-python", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._process = subprocess.Popen(
                [sys.executable, str(FORKER), str(theirs.fileno())], env=self.environment, pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True,
                preexec_fn=die_with_endpoint(),
            )
        except OSError as error:
            self._fail(f"the forker did not start: {error}")
            return
        finally:
            theirs.close()
        try:
            first = receive_message(ours)
        except (OSError, EOFError) as error:
            first = None
            self.broken = str(error)
        if first is None or "ready" not in first[0]:
            self._fail(self.broken or f"the forker exited with code {self._process.wait()}")
            return
        self.preloaded = first[0]["ready"]
        self.preloaded_environment = first[0]["environment"]
        self._control = ours
        self._ready.set()
        self._read_messages(ours)

    def _read_messages(self, control: socket.socket) -> None:
        try:
            self._dispatch(control)
        finally:  # however reading ended, no spawn and no job's wait is left hanging
            self._fail("the forker exited")
            if self._process is not None:
                self._process.poll()  # reaped

    def _dispatch(self, control: socket.socket) -> None:
        while True:
            try:
                received = receive_message(control)
            except (OSError, EOFError):
                received = None
            if received is None:
                return
            message, _ = received
            with self._state_lock:
                if "exited" in message:
                    child = self._children.pop(message["exited"], None)
                    if child is not None:
                        child.ended(message["code"])
                    continue
                answered, reply, process = self._replies.pop(message["id"])
                if "pid" in message:
                    # Registered here, before the next message is read: its exit cannot come unheard.
                    process.pid = message["pid"]
                    self._children[process.pid] = process
                reply.update(message)
                answered.set()

    def _fail(self, reason: str) -> None:
        """Answer every waiting spawn (None: start an interpreter) and end every job's wait: they died with it."""
        with self._state_lock:
            self.broken = self.broken or reason
            for answered, reply, _ in self._replies.values():
                reply.setdefault("error", reason)
                answered.set()
            self._replies.clear()
            for child in self._children.values():
                child.ended(-9)
            self._children.clear()
        self._ready.set()


# Besides the import-time variables, what the forker itself needs: the marker (orphans.py finds its jobs
# by it), the interpreter's PATH and HOME.
_KEPT = (JOB_MARKER, "PATH", "HOME", "TMPDIR")
_forkers: dict[str, PreloadedPython] = {}
_forkers_lock = threading.Lock()


def fork(command: JobCommand, default_environment: Callable[[], dict[str, str]]) -> ForkedProcess | str:
    """The job forked from its work dir's preloaded Python, or why it was not (it starts an interpreter).

    `default_environment()`: a job's environment when it sets nothing itself, asked once, when the forker
    starts: it runs with its import-time variables, so that jobs which set none of their own are forked."""
    work_dir = command.env.get(JOB_MARKER)
    if os.environ.get(SWITCH, "").lower() == "off":
        return f"{SWITCH}=off"
    if not sys.platform.startswith("linux") or not work_dir:
        return "forking jobs needs Linux and an endpoint's work dir"
    with _forkers_lock:
        forker = _forkers.get(work_dir)
        if forker is None:
            environment = {name: value for name, value in default_environment().items()
                           if is_import_time(name) or name in _KEPT}
            forker = _forkers[work_dir] = PreloadedPython({**environment, JOB_MARKER: work_dir})
    refusal = forker.refusal(command)
    if refusal:
        return refusal
    return forker.spawn(command) or f"the preloaded Python is unavailable: {forker.broken}"


def stop_all() -> None:
    with _forkers_lock:
        forkers = list(_forkers.values())
        _forkers.clear()
    for forker in forkers:
        forker.stop()
