"""Set-up benchmark: a fresh clone's `make run`, install included, then a warm `make run` in it.

    python3.11 tests/perf/setup_time.py [--with-pip] [--keep]        (or: make perf-setup)

Fresh means: a new clone of this repository's HEAD (commit first: the work tree is not copied) in
a temp dir, so no .venv, no .tools and no prepared metadata DB; uv's cache pointed at an empty
dir (UV_CACHE_DIR) and pip's cache off (PIP_NO_CACHE_DIR, for uv's own bootstrap), and uv
bootstrapped from PyPI even when one is on PATH. Warm means `make run` again in that clone.
--with-pip also installs the same lock in a second fresh clone the way a machine without uv
does (`make venv UV=none`: pip, no cache), for the installers side by side.
Goals (issue 16): fresh `make run` under 2 minutes; warm `make run` at most 2x the pipeline
execution's own wall time, both measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FRESH_GOAL_SECONDS = 120
WARM_GOAL_RATIO = 2.0
# "  DAG run                14.1 s  airflow dags test", after make run's "Phases (wall time)" line.
PHASE = re.compile(r"^  (?P<name>\S.*?)\s+(?P<seconds>\d+\.\d) s\b")


@dataclass
class TimedMake:
    seconds: float
    returncode: int
    log: Path
    install_seconds: float | None = None  # when make printed "Installed .venv ..."
    installed_with: str = ""
    phases: dict[str, float] = field(default_factory=dict)


def timed_make(clone: Path, args: list[str], env: dict[str, str], log: Path) -> TimedMake:
    """Run make in the clone, its output to `log`, noting when the install ended and the run's phases."""
    started = time.perf_counter()
    result = TimedMake(0.0, 0, log)
    in_phases = False
    with log.open("w") as out, subprocess.Popen(["make", *args], cwd=clone, env=env, text=True,
                                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as process:
        assert process.stdout is not None
        for line in process.stdout:
            out.write(line)
            if line.startswith("Installed .venv"):
                result.install_seconds = time.perf_counter() - started
                result.installed_with = line.split(" with ", 1)[1].split(" in ")[0]
            in_phases = in_phases or line.startswith("Phases (wall time)")
            if in_phases and (match := PHASE.match(line)):
                result.phases[match["name"]] = float(match["seconds"])
    result.seconds = time.perf_counter() - started
    result.returncode = process.returncode
    return result


def fresh_clone(workspace: Path, name: str) -> Path:
    clone = workspace / name
    subprocess.run(["git", "clone", "--quiet", str(PROJECT_ROOT), str(clone)], check=True)
    return clone


def fresh_environment(workspace: Path) -> dict[str, str]:
    env = {**os.environ, "UV_CACHE_DIR": str(workspace / "uv-cache"), "PIP_NO_CACHE_DIR": "1",
           "UV": ".tools/uv/bin/uv"}  # the Makefile's own bootstrap, even where uv is on PATH
    (workspace / "uv-cache").mkdir()
    return env


def check(run: TimedMake, what: str) -> None:
    if run.returncode != 0:
        sys.exit(f"{what} failed (exit {run.returncode}); its output: {run.log}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--with-pip", action="store_true", help="also install the lock with pip in a fresh clone")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (clones, logs, uv cache)")
    options = parser.parse_args(argv)

    workspace = Path(tempfile.mkdtemp(prefix="setup-time-"))
    print(f"Workspace {workspace}  (HEAD {_head()})")
    try:
        env = fresh_environment(workspace)
        clone = fresh_clone(workspace, "clone")
        fresh = timed_make(clone, ["run"], env, workspace / "fresh-run.log")
        check(fresh, "fresh make run")
        warm = timed_make(clone, ["run"], env, workspace / "warm-run.log")
        check(warm, "warm make run")
        pip = None
        if options.with_pip:
            pip_clone = fresh_clone(workspace, "clone-pip")
            pip = timed_make(pip_clone, ["venv", "UV=none"], env, workspace / "pip-install.log")
            check(pip, "make venv with pip")
        print(report(fresh, warm, pip))
        return 0
    finally:
        if options.keep:
            print(f"Kept {workspace}")
        else:
            shutil.rmtree(workspace, ignore_errors=True)


def report(fresh: TimedMake, warm: TimedMake, pip: TimedMake | None) -> str:
    execution = warm.phases.get("pipeline execution")
    install = fresh.install_seconds or 0.0
    lines = [
        "",
        "Set-up (fresh clone, uv cache empty)",
        f"  install ({fresh.installed_with}, bootstrap included)  {install:6.1f} s",
        f"  make run after it                                  {fresh.seconds - install:6.1f} s"
        f"  (metadata DB migrated: {fresh.phases.get('metadata DB', 0):.1f} s)",
        f"  fresh make run, total                              {fresh.seconds:6.1f} s"
        f"  goal < {FRESH_GOAL_SECONDS} s: {'met' if fresh.seconds < FRESH_GOAL_SECONDS else 'NOT met'}",
        "Warm make run (environment installed, metadata DB prepared)",
        *(f"  {name:<20} {seconds:6.1f} s" for name, seconds in warm.phases.items()),
        f"  make run, as timed from outside  {warm.seconds:6.1f} s",
    ]
    if execution:
        ratio = warm.seconds / execution
        lines.append(f"  warm make run / pipeline execution = {ratio:.2f}x"
                     f"  goal <= {WARM_GOAL_RATIO:.0f}x: {'met' if ratio <= WARM_GOAL_RATIO else 'NOT met'}")
    if pip is not None:
        lines += [
            "Installers side by side (fresh clone, no cache)",
            f"  uv   {install:6.1f} s  ({fresh.installed_with}, bootstrap included)",
            f"  pip  {pip.seconds:6.1f} s  (make venv UV=none)   uv is {pip.seconds / install:.1f}x faster",
        ]
    return "\n".join(lines)


def _head() -> str:
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, check=True,
                          capture_output=True, text=True).stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
