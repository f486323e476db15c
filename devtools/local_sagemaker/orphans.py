"""Job processes never outlive their endpoint, even one that is SIGKILLed (Linux).

Three layers, each for what the one before cannot do:
- Each job process asks the kernel for SIGKILL when the endpoint thread that started it ends
  (`prctl(PR_SET_PDEATHSIG)`, set between fork and exec): immediate, and it needs nothing else
  to survive.
- Processes a job starts itself are not covered by that; every job process carries the marker
  `LOCAL_SAGEMAKER_JOB_WORK_DIR=<work dir>` in its environment, which its children inherit.
  A small watcher process (this file, run as a script, stdlib only) holds the read end of a pipe
  the endpoint writes nothing to: when the endpoint is gone, however it went, the pipe closes,
  and the watcher kills every process carrying the marker, then removes a temporary work dir.
- The next endpoint on the same work dir does the same before it serves (work_dir.py), for
  what an endpoint and its watcher both killed at once left behind.
Elsewhere (macOS) there is neither prctl nor /proc: jobs are ended by a clean stop (SIGTERM,
Ctrl-C) only, and a SIGKILLed endpoint's jobs must be ended by hand.
"""

from __future__ import annotations

import argparse
import ctypes
import functools
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

JOB_MARKER = "LOCAL_SAGEMAKER_JOB_WORK_DIR"
_PR_SET_PDEATHSIG = 1


def marker_environment(work_dir: Path) -> dict[str, str]:
    """What a job process's environment carries so that its endpoint's successors can find it."""
    return {JOB_MARKER: str(Path(work_dir).resolve())}


@functools.cache
def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def die_with_endpoint() -> Callable[[], None] | None:
    """A Popen `preexec_fn` giving the child SIGKILL when its parent thread ends; None where unsupported."""
    libc = _libc()
    if libc is None:
        return None
    endpoint_pid = os.getpid()

    def ask_for_sigkill() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != endpoint_pid:  # the endpoint died before prctl took effect
            os._exit(1)

    return ask_for_sigkill


def marked_processes(work_dir: Path) -> list[int]:
    """Processes other than this one whose environment has the job marker of `work_dir` (Linux /proc)."""
    needle = f"{JOB_MARKER}={Path(work_dir).resolve()}".encode()
    found: list[int] = []
    if not os.path.isdir("/proc"):
        return found
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry.name}/environ", "rb") as handle:
                if needle in handle.read().split(b"\0"):
                    found.append(int(entry.name))
        except OSError:  # gone, or another user's
            continue
    return found


def end_orphans(work_dir: Path) -> list[int]:
    """SIGKILL every process left from `work_dir`'s jobs; return their pids."""
    ended = []
    for pid in marked_processes(work_dir):
        try:
            os.kill(pid, signal.SIGKILL)
            ended.append(pid)
        except OSError:
            continue
    return ended


def start_watcher(work_dir: Path, remove_work_dir: bool) -> subprocess.Popen[bytes]:
    """The watcher of this endpoint; close its stdin at a clean stop (the kernel closes it otherwise)."""
    command = [sys.executable, "-I", "-S", str(Path(__file__).resolve()), str(work_dir)]
    if remove_work_dir:
        command.append("--remove-work-dir")
    return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, start_new_session=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="End an endpoint's job processes once the endpoint is gone.")
    parser.add_argument("work_dir", type=Path)
    parser.add_argument("--remove-work-dir", action="store_true")
    options = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C is for the endpoint, which stops its jobs
    sys.stdin.buffer.read()  # returns when the endpoint's end of the pipe closes
    ended = end_orphans(options.work_dir)
    if ended:
        print(f"local endpoint watcher: ended {len(ended)} job process(es) the endpoint left: {ended}",
              file=sys.stderr, flush=True)
    if options.remove_work_dir:
        shutil.rmtree(options.work_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
