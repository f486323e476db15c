"""The native stack's `restart: always` on plain processes: what dies on its own comes back, what the stack kills
does not, and what keeps dying is left dead after a few tries."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from devtools.local_airflow.processes import ProcessSet
from devtools.local_airflow.restart_policy import MAX_RESTARTS, RestartPolicy
from tests.stack.runs import eventually

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]
CRASHER = [sys.executable, "-c", "import sys; print('Fatal Python error: Segmentation fault'); "
           "print('Current thread 0x1 (most recent call first):'); sys.exit(3)"]


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[Callable[[list[str]], tuple[ProcessSet, RestartPolicy, list[str]]]]:
    """A process running a command under a restart policy: (its set, the policy, the names (re)started).
    Ended as the stack ends it: the policy halted, the processes stopped, then the policy joined."""
    made: list[tuple[ProcessSet, RestartPolicy]] = []

    def watch(command: list[str]) -> tuple[ProcessSet, RestartPolicy, list[str]]:
        process_set, started = ProcessSet(tmp_path / "processes.json"), []

        def start(name: str) -> None:
            started.append(name)
            process_set.start(name, command, env={}, cwd=tmp_path, log_path=tmp_path / f"{name}.log")

        start("component")
        policy = RestartPolicy(process_set, ["component"], start, every=0.05)
        made.append((process_set, policy))
        policy.start()
        return process_set, policy, started

    yield watch
    for process_set, policy in made:
        policy.halt()
        process_set.stop(list(process_set.processes), 5)
        policy.join()


def test_a_process_that_dies_on_its_own_is_started_again_and_its_log_account_kept(watched) -> None:
    processes, policy, started = watched(SLEEPER)
    first = processes.processes["component"]
    processes.processes["component"].popen.kill()  # not through the stack: a crash
    eventually(lambda: processes.processes["component"].pid != first.pid, "the restart", timeout=30, every=0.05)
    [crash] = policy.crashes
    assert crash.startswith(f"component exited -9 on its own and was started again (1 of {MAX_RESTARTS})")
    assert processes.processes["component"].running() and started == ["component", "component"]


def test_a_process_killed_through_the_stack_stays_dead(watched) -> None:
    processes, policy, started = watched(SLEEPER)
    processes.kill("component")
    looked = policy.rounds
    eventually(lambda: policy.rounds >= looked + 2, "two looks after the kill", timeout=30, every=0.05)
    assert "component" not in processes.processes and policy.crashes == [] and started == ["component"]


def test_a_process_that_keeps_dying_is_left_dead_after_the_last_restart_with_each_crash_reported(watched) -> None:
    _, policy, started = watched(CRASHER)
    eventually(lambda: policy.given_up == {"component"}, "giving up", timeout=30, every=0.05)
    assert len(started) == 1 + MAX_RESTARTS and len(policy.crashes) == MAX_RESTARTS
    assert all("exited 3" in crash and "| Fatal Python error: Segmentation fault" in crash
               for crash in policy.crashes)


def test_a_halted_policy_keeps_what_it_restarted_alive_until_it_is_joined(watched) -> None:
    """Linux's parent-death signal follows the thread that started a process: the watcher outlives the stop."""
    processes, policy, _ = watched(SLEEPER)
    first = processes.processes["component"]
    first.popen.kill()
    eventually(lambda: processes.processes["component"].pid != first.pid, "the restart", timeout=30, every=0.05)
    restarted = processes.processes["component"]

    policy.halt()
    with pytest.raises(subprocess.TimeoutExpired):
        restarted.popen.wait(timeout=1)  # a watcher that ended at the halt would have had it signalled at once
    assert policy.watching
    processes.stop(["component"], 5)
    policy.join()
    assert not policy.watching and restarted.popen.returncode == -15  # stopped by the stop, in its turn
