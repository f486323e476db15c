"""A virtualenv holding only what a deployment installs: requirements.lock and this repository's wheel.

Built with uv from the lock, with hashes, for any Python the runtime supports (3.11 to 3.13): the
tests load the DAGs and run the training DAG in it, to show that the product needs nothing of the
development environment (no SageMaker SDK, no moto, no local tools).

    python -m devtools.runtime_environment --python 3.12 --out .runtime/3.12 [--without-package]
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RUNTIME_LOCK = PROJECT_ROOT / "requirements.lock"
# What the wheel is built from (pyproject.toml's [project] and the package it finds).
PACKAGE_SOURCES = ("pyproject.toml", "README.md", "LICENSE", "plugins/airflow_sagemaker_pipelines")


def uv() -> str:
    """The uv `make` uses: the one on PATH, else the one it bootstraps into .tools/."""
    found = shutil.which("uv") or str(PROJECT_ROOT / ".tools" / "uv" / "bin" / "uv")
    if not os.access(found, os.X_OK):
        raise FileNotFoundError("uv is needed: `make venv` installs it into .tools/uv")
    return found


def find_python(version: str) -> str:
    """An interpreter for `version` (3.12): one of pyenv's, else one on PATH (pyenv's shims are not
    interpreters: they run the version pyenv selects, which may not be this one)."""
    root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    installed = sorted(glob.glob(f"{root}/versions/{version}.*/bin/python{version}"))
    if installed:
        return installed[-1]
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        candidate = Path(folder) / f"python{version}"
        if "shims" not in Path(folder).parts and os.access(candidate, os.X_OK):
            return str(candidate)
    raise FileNotFoundError(f"no Python {version} under {root}/versions nor on PATH")


def build_wheel(out: Path) -> Path:
    """This repository's wheel, built from a copy of its sources (the working tree gets no build/ folder)."""
    with tempfile.TemporaryDirectory(prefix="wheel-source-") as source:
        for name in PACKAGE_SOURCES:
            target = Path(source) / name
            if (PROJECT_ROOT / name).is_dir():
                shutil.copytree(PROJECT_ROOT / name, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(PROJECT_ROOT / name, target)
        _run([uv(), "build", "--wheel", "--quiet", "--out-dir", str(out), source])
    wheels = sorted(out.glob("airflow_sagemaker_pipelines-*.whl"))
    if len(wheels) != 1:
        raise RuntimeError(f"expected one wheel in {out}, found {wheels}")
    return wheels[0]


def create(python: str, venv: Path, wheel: Path | None) -> Path:
    """The runtime virtualenv at `venv` (made anew); its Python. `wheel` None: the lock only."""
    if venv.exists():
        shutil.rmtree(venv)
    _run([uv(), "venv", "--quiet", "--python", python, str(venv)])
    interpreter = venv / "bin" / "python"
    _run([uv(), "pip", "sync", "--quiet", "--python", str(interpreter), "--require-hashes", "--compile-bytecode",
          str(RUNTIME_LOCK)])
    if wheel is not None:
        install_wheel(str(interpreter), wheel)
    _run([uv(), "pip", "check", "--quiet", "--python", str(interpreter)])
    return interpreter


def install_wheel(python: str, wheel: Path) -> None:
    """The package into the environment of `python`; its dependencies are there already, at the locked
    versions: nothing else may be installed, and `pip check` must hold after."""
    _run([uv(), "pip", "install", "--quiet", "--python", python, "--no-deps", str(wheel)])
    _run([uv(), "pip", "check", "--quiet", "--python", python])


def _run(command: list[str]) -> None:
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {completed.returncode}:\n{completed.stderr[-4000:]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.runtime_environment", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--python", default="3.11", help="the Python version (default 3.11)")
    parser.add_argument("--out", type=Path, required=True, help="the virtualenv to create (replaced)")
    parser.add_argument("--without-package", action="store_true", help="the lock only: the plugin comes from a "
                        "plugins folder")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="wheel-") as wheels:
        wheel = None if args.without_package else build_wheel(Path(wheels))
        interpreter = create(find_python(args.python), args.out, wheel)
    print(f"Runtime environment: {interpreter}" + ("" if wheel is None else f" (with {wheel.name})"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
