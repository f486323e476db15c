"""How a container stand-in starts and fails, shared by the scripts in this folder.

Each stand-in runs as a plain script in its job's process (its folder is on sys.path, so it
imports this module by name). Its root is /opt/ml, or the sandbox folder the engine passes
where mount namespaces are unavailable. A ClientError is the container's "your input is
wrong": it goes to stderr and to /opt/ml/output/failure, as SageMaker's containers write it,
and the job exits 1.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path("/opt/ml")


class ClientError(Exception):
    pass


def run_container(work: Callable[[Path], None]) -> int:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT
    try:
        work(root)
    except ClientError as error:
        message = f"ClientError: {error}"
        print(message, file=sys.stderr, flush=True)
        (root / "output").mkdir(parents=True, exist_ok=True)
        (root / "output/failure").write_text(message)
        return 1
    return 0
