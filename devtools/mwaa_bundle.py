"""`make mwaa-bundle`: what Amazon MWAA takes, written to a folder: a DAGs folder, plugins.zip and requirements.txt.

MWAA puts its DAGs folder on sys.path and unzips plugins.zip into its plugins folder, so:
- dags/ holds the DAG files and, beside them, the include/ package they import (its SDK source
  included, which nothing imports at run time) and an .airflowignore that keeps Airflow from
  parsing include/ for DAGs;
- plugins.zip holds the plugin package and the module that registers it, at the zip's root, with the
  .airflowignore that keeps Airflow from importing the package's modules as plugins;
- requirements.txt holds the runtime requirements but Airflow itself, which MWAA provides (and
  constrains the rest with its own constraints file).
Upload the three to the environment's S3 bucket (README "Deploy it").
"""

from __future__ import annotations

import argparse
import shutil
import sys
import zipfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PLUGIN_PACKAGE = "airflow_sagemaker_pipelines"
PLUGIN_MODULE = "airflow_sagemaker_pipelines_plugin.py"
PROVIDED_BY_MWAA = ("apache-airflow==",)


def _sources(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file() and "__pycache__" not in path.parts
                  and not path.name.endswith(".pyc"))


def write_bundle(out: Path) -> list[Path]:
    """Write the bundle into `out` (emptied first); the files written, relative to it."""
    if out.exists():
        shutil.rmtree(out)
    dags = out / "dags"
    for source in _sources(PROJECT_ROOT / "dags"):
        target = dags / source.relative_to(PROJECT_ROOT / "dags")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    for source in _sources(PROJECT_ROOT / "include"):
        target = dags / "include" / source.relative_to(PROJECT_ROOT / "include")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    (dags / ".airflowignore").write_text("# The DAG files' package, not DAG files.\ninclude/\n")
    with zipfile.ZipFile(out / "plugins.zip", "w", zipfile.ZIP_DEFLATED) as plugins:
        plugins.write(PROJECT_ROOT / "plugins" / PLUGIN_MODULE, PLUGIN_MODULE)
        # Airflow imports every module of its plugins folder as a plugin: the package is imported, not scanned.
        plugins.write(PROJECT_ROOT / "plugins" / ".airflowignore", ".airflowignore")
        for source in _sources(PROJECT_ROOT / "plugins" / PLUGIN_PACKAGE):
            plugins.write(source, str(source.relative_to(PROJECT_ROOT / "plugins")))
    requirements = [line for line in (PROJECT_ROOT / "requirements.txt").read_text().splitlines()
                    if line and not line.startswith(("#", *PROVIDED_BY_MWAA))]
    (out / "requirements.txt").write_text(
        "# The runtime requirements of airflow-sagemaker-pipelines but Airflow, which MWAA provides.\n"
        + "\n".join(requirements) + "\n")
    return sorted(path.relative_to(out) for path in out.rglob("*") if path.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.mwaa_bundle", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "dist" / "mwaa")
    args = parser.parse_args(argv)
    written = write_bundle(args.out)
    print(f"Wrote {len(written)} files to {args.out}: dags/ ({sum(1 for p in written if p.parts[0] == 'dags')} files), "
          "plugins.zip, requirements.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
