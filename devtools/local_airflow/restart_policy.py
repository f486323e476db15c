"""docker-compose's `restart: always`, natively: a stack's Airflow component that exits on its own is started again.

The compose file restarts every service that dies; the native stack did not, so one crash ended it.
Airflow's api-server has crashed in C (a general protection fault in libpython, under the load of a
backfill with tests running beside it): in a deployment, a blip while its container restarts; on
the native stack, every later test of the stack failed with "connection refused". Now the stack
does what compose does, and says so: each crash is recorded with the lines of its log that tell
why (`crashes`), printed, and shown by the stack tests after their run.

A process killed or stopped through the stack (`kill`, `stop`) is not restarted: the fault tests
restart what they kill themselves. A component that keeps dying is left dead after
`MAX_RESTARTS`, as compose's `on-failure:N` would, so a broken configuration fails fast.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterable

from devtools.local_airflow.processes import ProcessSet, crash_report, group_members, kill_tree

MAX_RESTARTS = 3


class RestartPolicy:
    def __init__(self, process_set: ProcessSet, names: Iterable[str], restart: Callable[[str], object],
                 every: float = 1.0) -> None:
        self.process_set = process_set
        self.names = tuple(names)
        self.restart = restart
        self.every = every
        self.crashes: list[str] = []
        self.given_up: set[str] = set()  # dead after MAX_RESTARTS, or not startable: left so
        self.rounds = 0  # looks at every process, done
        self._restarts: dict[str, int] = {}
        self._stopped = threading.Event()  # restart nothing more
        self._released = threading.Event()  # what it restarted is stopped: the thread may end
        self._thread: threading.Thread | None = None

    @property
    def watching(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        self._stopped.clear()
        self._released.clear()
        self._thread = threading.Thread(target=self._watch, name="restart-policy", daemon=True)
        self._thread.start()

    def halt(self) -> None:
        """Restart nothing from now on (a stop begins); the thread lives on until `join`."""
        self._stopped.set()

    def join(self) -> None:
        """End the watching thread, once what it restarted is stopped: Linux sends a process's parent-death
        signal when the *thread* that started it ends (processes.py), which would stop them out of order."""
        self.halt()
        self._released.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _watch(self) -> None:
        # A stop signal must reach the main thread, whose stop holds them while it runs (stack.signals_held).
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM, signal.SIGHUP})
        while not self._stopped.wait(self.every):
            for name in self.names:
                with self.process_set.lock:  # a kill or stop in progress removes the process first
                    if not self._stopped.is_set():
                        self._look_at(name)
            self.rounds += 1
        self._released.wait()

    def _look_at(self, name: str) -> None:
        process = self.process_set.processes.get(name)
        if process is None or process.running() or name in self.given_up:
            return
        if self._restarts.get(name, 0) >= MAX_RESTARTS:
            self.given_up.add(name)
            return
        self._restarts[name] = self._restarts.get(name, 0) + 1
        self.crashes.append(self._describe(name, process.popen.returncode))
        print(self.crashes[-1].splitlines()[0], flush=True)
        kill_tree(process.pid, group_members(process.pid))  # what of its process group outlived it
        if process.log is not None:
            process.log.close()
        try:
            self.restart(name)
        except Exception as error:
            self.given_up.add(name)
            self.crashes.append(f"{name} could not be started again: {error!r}")
            print(self.crashes[-1], flush=True)

    def _describe(self, name: str, code: int | None) -> str:
        log = self.process_set.log_paths[name]
        lines = crash_report(log, since=self.process_set.log_offsets.get(name, 0)).splitlines()
        return "\n".join([f"{name} exited {code} on its own and was started again "
                          f"({self._restarts[name]} of {MAX_RESTARTS}); its log {log} says:",
                          *(f"  | {line}" for line in lines)])
