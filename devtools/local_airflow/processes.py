"""The processes a local stack starts, and how they end: with everything they started, whatever ends the stack.

Why this much care. Stopped stacks used to leave `airflow api_server` processes behind, reparented
to init: every component runs in a session of its own (so a Ctrl-C reaches the stack, which stops
them in order), and when the stack's own process died without running its stop - its process group
killed (`kill -- -PGID`, which is how a job runner or CI ends a test run), the terminal closed
(SIGHUP), a second Ctrl-C interrupting the stop halfway - nothing signalled them. And a component
that outlives its grace period and is SIGKILLed leaves its own children behind: Airflow puts task
runners in process groups of their own, out of reach of a `killpg` on the component's group. So:

- every process gets a parent-death signal (Linux): it is told to stop when the stack's process dies;
- a stop signals each process, waits for it, then SIGKILLs its process group and every descendant
  seen before the signal (a task runner has a group of its own);
- what a stack started is recorded in its home, and the next start there ends what is still alive.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import psutil

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_LIBC = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True) if sys.platform == "linux" else None


def _parent_death_signal(sig: signal.Signals, parent: int) -> Callable[[], None]:
    """A preexec_fn that asks the kernel to send `sig` when the stack's process dies (Linux only), and
    unblocks every signal: a child inherits the signal mask of the thread that forks it, and the restart
    policy's thread blocks the stop signals (which would leave a restarted component deaf to its stop).

    Runs in the child between fork and exec (after any user switch, which would clear the setting):
    nothing but system calls, so it is safe in a process with threads."""

    def arm() -> None:
        signal.pthread_sigmask(signal.SIG_SETMASK, set())
        if _LIBC is None:
            return
        _LIBC.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        if os.getppid() != parent:  # the stack died before the setting took effect
            os.kill(os.getpid(), sig)

    return arm


@dataclass
class ManagedProcess:
    """One process of a stack: its own session (so its process group is its pid), its log, how it stops."""

    name: str
    popen: subprocess.Popen
    stop_signal: signal.Signals
    log: IO[str] | None = None
    created: float = 0.0

    @property
    def pid(self) -> int:
        return self.popen.pid

    def running(self) -> bool:
        return self.popen.poll() is None

    def tree(self) -> list[psutil.Process]:
        """The process and every descendant alive now."""
        try:
            root = psutil.Process(self.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []


@dataclass
class ProcessSet:
    """The processes of one stack, recorded in `registry` (a JSON file in the stack's home)."""

    registry: Path
    processes: dict[str, ManagedProcess] = field(default_factory=dict)
    exit_codes: dict[str, int] = field(default_factory=dict)  # of the processes stopped or killed
    log_paths: dict[str, Path] = field(default_factory=dict)  # of every process started, kept after it ends
    log_offsets: dict[str, int] = field(default_factory=dict)  # where in its log the process's latest start began
    lock: threading.RLock = field(default_factory=threading.RLock)  # held by each start, stop and kill

    def start(self, name: str, command: Sequence[str], *, env: dict[str, str], cwd: Path, log_path: Path,
              stop_signal: signal.Signals = signal.SIGTERM, user: str | None = None,
              group: int | None = None) -> ManagedProcess:
        """Start `command` in a session of its own, output appended to `log_path`, told to stop when we die."""
        with self.lock:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            log = log_path.open("a")
            self.log_offsets[name] = log.tell()
            popen = subprocess.Popen(
                list(command), env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, user=user, group=group, extra_groups=[] if user else None,
                preexec_fn=_parent_death_signal(stop_signal, os.getpid()),
            )
            try:
                created = psutil.Process(popen.pid).create_time()
            except psutil.NoSuchProcess:
                created = 0.0
            process = ManagedProcess(name, popen, stop_signal, log, created)
            self.log_paths[name] = log_path
            self.processes[name] = process
            self._record()
            return process

    def stop(self, names: Iterable[str], grace_seconds: float) -> None:
        """Signal each (in parallel), wait up to the grace period, then SIGKILL what is left of their trees."""
        with self.lock:
            wave = [self.processes[name] for name in names if name in self.processes]
            trees = {process.name: process.tree() for process in wave}
            for process in wave:
                if process.running():
                    with suppress(ProcessLookupError):
                        process.popen.send_signal(process.stop_signal)
            deadline = time.monotonic() + grace_seconds
            for process in wave:
                with suppress(subprocess.TimeoutExpired):
                    process.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
                kill_tree(process.pid, trees[process.name])
                process.popen.wait()
                if process.log is not None:
                    process.log.close()
            for process in wave:
                self.exit_codes[process.name] = process.popen.returncode
                del self.processes[process.name]
            self._record()

    def kill(self, name: str) -> None:
        """SIGKILL a process and everything it started, at once: a crash (a container dying), not a stop."""
        with self.lock:
            process = self.processes[name]
            kill_tree(process.pid, process.tree())
            process.popen.wait()
            if process.log is not None:
                process.log.close()
            self.exit_codes[name] = process.popen.returncode
            del self.processes[name]
            self._record()

    def end_leftovers(self) -> list[str]:
        """SIGKILL what a previous stack in this home left running (its process died without stopping them)."""
        ended = []
        for name, (pid, created) in self._recorded().items():
            with suppress(psutil.NoSuchProcess):
                leader = psutil.Process(pid)
                if abs(leader.create_time() - created) < 0.01:  # the same process, not a reused pid
                    kill_tree(pid, [leader, *leader.children(recursive=True)])
                    ended.append(f"{name} (pid {pid})")
        self.registry.unlink(missing_ok=True)
        return ended

    def _recorded(self) -> dict[str, tuple[int, float]]:
        try:
            return {name: (entry[0], entry[1]) for name, entry in json.loads(self.registry.read_text()).items()}
        except (OSError, ValueError):
            return {}

    def _record(self) -> None:
        self.registry.parent.mkdir(parents=True, exist_ok=True)
        self.registry.write_text(json.dumps({p.name: (p.pid, p.created) for p in self.processes.values()}))


def kill_tree(group: int, seen: Iterable[psutil.Process], timeout: float = 10) -> None:
    """SIGKILL the process group `group` and every process of `seen` still alive (same pid, same start),
    and wait (up to `timeout`) until they are gone: what comes next may need their ports and files."""
    seen = list(seen)
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signal.SIGKILL)
    for process in seen:
        with suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            if process.is_running():  # psutil compares the start time: a reused pid is not killed
                process.kill()
    deadline = time.monotonic() + timeout
    while alive(seen) and time.monotonic() < deadline:
        time.sleep(0.05)  # a killed process is gone within milliseconds; no event says so for a non-child


def alive(processes: Iterable[psutil.Process]) -> list[psutil.Process]:
    """Those of `processes` that still run (zombies count as gone: they hold nothing but a pid)."""
    running = []
    for process in processes:
        with suppress(psutil.NoSuchProcess):
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                running.append(process)
    return running


def log_tail(path: Path, lines: int = 30) -> str:
    """The last lines of a process's log, for an error message."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def crash_report(path: Path, since: int = 0, lines: int = 30, fault_lines: int = 60) -> str:
    """What a process's log says (from byte `since`: where its latest start began) about how it ended:
    from Python's fault handler's report on (the crashing thread's stack comes first) when it wrote
    one, else the log's last lines."""
    try:
        with path.open("rb") as log:
            log.seek(since)
            text = log.read().decode(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    faults = [index for index, line in enumerate(text) if line.startswith("Fatal Python error")]
    return "\n".join(text[faults[-1]:faults[-1] + fault_lines] if faults else text[-lines:])


def group_members(group: int) -> list[psutil.Process]:
    """The processes still in process group `group` (a dead leader's children keep its group)."""
    members = []
    for process in psutil.process_iter():
        with suppress(psutil.NoSuchProcess, psutil.AccessDenied, ProcessLookupError, PermissionError):
            if os.getpgid(process.pid) == group:
                members.append(process)
    return members
