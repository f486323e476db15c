"""Give each job its own /opt/ml, so that users' scripts run with their container paths unchanged.

On Linux a private mount namespace per job does it without root: `unshare --mount
--map-root-user`, then the job's sandbox folder is bind-mounted at /opt/ml (over an empty
/opt/ml where one exists, else over a tmpfs on /opt, which hides the rest of /opt from the job).
Where namespaces are unavailable, the fallback rewrites /opt/ml in the job's arguments and
environment only, and says so in the job's log: a script that hard-codes other /opt/ml paths
will not find them there.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

CONTAINER_ROOT = "/opt/ml"

# Run inside the new mount namespace: mount the sandbox at /opt/ml, then exec the job.
_MOUNT_SCRIPT = r"""
set -e
sandbox="$1"; shift
mount --make-rprivate / 2>/dev/null || true
if [ -d /opt/ml ] && [ -z "$(ls -A /opt/ml)" ]; then
    mount --bind "$sandbox" /opt/ml
else
    mount -t tmpfs tmpfs /opt
    mkdir -p /opt/ml
    mount --bind "$sandbox" /opt/ml
fi
cd /opt/ml
exec "$@"
"""


@dataclass(frozen=True)
class IsolationMode:
    uses_namespace: bool
    note: str


@functools.cache
def isolation_mode() -> IsolationMode:
    """Decide once per process how jobs are isolated, and why."""
    unshare = shutil.which("unshare")
    if sys.platform != "linux" or not unshare:
        return IsolationMode(False, "no `unshare` on this system")
    if os.path.realpath(sys.executable).startswith("/opt/") and not _is_empty_dir("/opt/ml"):
        return IsolationMode(False, "the Python interpreter lives under /opt, which the sandbox hides")
    probe = subprocess.run(
        [unshare, "--mount", "--map-root-user", "sh", "-c", "mount -t tmpfs tmpfs /mnt"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        reason = probe.stderr.strip().splitlines()[-1:] or ["unknown error"]
        return IsolationMode(False, f"mount namespaces are unavailable ({reason[0]})")
    return IsolationMode(True, "private mount namespace, sandbox bind-mounted at /opt/ml")


def _is_empty_dir(path: str) -> bool:
    return os.path.isdir(path) and not os.listdir(path)


@dataclass(frozen=True)
class JobCommand:
    """A job's command in its sandbox: `argv` in `root`, mounted at /opt/ml when `namespace`."""

    argv: list[str]
    env: dict[str, str]
    root: Path
    namespace: bool
    note: str

    def process_argv(self) -> list[str]:
        """The command line of a process of its own: in a new mount namespace, when there is one."""
        if not self.namespace:
            return list(self.argv)
        return ["unshare", "--mount", "--map-root-user", "sh", "-c", _MOUNT_SCRIPT, "sandbox", str(self.root),
                *self.argv]


class Sandbox:
    """A job's folder on the host that stands for the container's /opt/ml."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def host_path(self, container_path: str) -> Path:
        normalized = os.path.normpath(container_path)
        if normalized != CONTAINER_ROOT and not normalized.startswith(CONTAINER_ROOT + "/"):
            raise ValueError(f"path {container_path!r} is outside {CONTAINER_ROOT}")
        return self.root / os.path.relpath(normalized, CONTAINER_ROOT)

    def command(self, argv: list[str], env: dict[str, str]) -> JobCommand:
        """`argv` with this sandbox at /opt/ml, and a log note."""
        mode = isolation_mode()
        if mode.uses_namespace:
            return JobCommand(argv, env, self.root, True, f"Sandbox: {mode.note}")
        rewritten_env = {key: self._rewrite(value) for key, value in env.items()}
        note = (
            f"Sandbox fallback: {mode.note}; /opt/ml rewritten to {self.root} in arguments and "
            "environment only, so a script that hard-codes other /opt/ml paths will not find them"
        )
        return JobCommand([self._rewrite(arg) for arg in argv], rewritten_env, self.root, False, note)

    def _rewrite(self, value: str) -> str:
        return value.replace(CONTAINER_ROOT, str(self.root))
