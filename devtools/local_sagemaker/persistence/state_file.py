"""One service's saved state on disk: a JSON header line, then the pickled backends.

Written whole to a temporary file beside it and moved over the old one (os.replace), so the
file on disk is always a complete snapshot, the previous or the new one, whenever the
endpoint dies. The header says which format, moto and Python wrote it: pickled moto objects
are only read back by the same moto, so another version is refused by name instead of being
half-read. Any file that cannot be read is a StateFileError naming it and the way out.
"""

from __future__ import annotations

import json
import os
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

FORMAT = 1
SUFFIX = ".state"
FRESH_FLAG = "--fresh"


class StateFileError(RuntimeError):
    """A saved state that cannot be restored; the message names the file and the flag to start fresh."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(
            f"Cannot restore the local endpoint's saved state from {path}: {problem}. Nothing was changed; "
            f"start with {FRESH_FLAG} to set the saved state aside and start empty"
        )
        self.path = path


def header(service: str) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "service": service,
        "moto": version("moto"),
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
    }


def write_atomically(path: Path, service: str, payload: bytes) -> None:
    """Replace `path` with the header and `payload`; a reader never sees a partial file."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temporary.open("wb") as handle:
        handle.write(json.dumps(header(service)).encode() + b"\n")
        handle.write(payload)
    os.replace(temporary, path)


def read_payload(path: Path, service: str) -> bytes:
    """The pickled payload of a file this endpoint wrote; StateFileError for anything else."""
    try:
        with path.open("rb") as handle:
            first_line = handle.readline()
            payload = handle.read()
    except OSError as error:
        raise StateFileError(path, f"it cannot be read ({error.strerror or error})") from None
    try:
        found = json.loads(first_line)
        if not isinstance(found, dict):
            raise ValueError("not an object")
    except ValueError:
        raise StateFileError(path, "it is not a state file of the local endpoint (no header line)") from None
    expected = header(service)
    for key in ("format", "service", "moto", "python"):
        if found.get(key) != expected[key]:
            raise StateFileError(
                path, f"it was written with {key} {found.get(key)!r}, this endpoint runs {key} {expected[key]!r}"
            )
    if not payload:
        raise StateFileError(path, "it is truncated (no data after its header)")
    return payload


def remove_leftover_temporaries(directory: Path) -> None:
    """Temporary files of a write the endpoint did not finish (it died while writing)."""
    for leftover in directory.glob(f".*{SUFFIX}.*.tmp"):
        leftover.unlink(missing_ok=True)
