"""Which pipelines this Airflow runs: every declared pipeline folder, read and checked together.

Pipeline folders are found under roots: the deployment's include/pipelines (the DAG file passes
it), the folders of the environment variable SAGEMAKER_PIPELINES_FOLDERS (os.pathsep-separated),
and the installed Python packages SAGEMAKER_PIPELINES_PACKAGES names (comma-separated, e.g.
`my_models.pipelines`: the package's folder holds pipeline folders, or is one). Packages are
named rather than discovered: installing one never adds DAGs by itself, and finding it costs no
scan of every installed distribution at each parse. A root may itself be a pipeline folder.

`declared_pipelines` keeps the valid declarations and each invalid one's error apart, so that one
broken folder never hides the others: two pipelines may not share a DAG id, a SageMaker pipeline
name or a registry group (the later folder is the invalid one, and its error names the other), and
a declaration must agree with its compiled definition (definition_checks.py).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from importlib import util
from pathlib import Path

from .declarations import DECLARATION_FILE, DeclarationError, PipelineDeclaration, load_declaration
from .definition_checks import check_definition

FOLDERS_ENV = "SAGEMAKER_PIPELINES_FOLDERS"
PACKAGES_ENV = "SAGEMAKER_PIPELINES_PACKAGES"


def pipeline_roots(*defaults: Path) -> tuple[list[Path], dict[str, str]]:
    """`defaults`, then the environment's folders, then the named packages' folders (each once); and the
    error of each named package that cannot be found, by the variable's name."""
    roots = [*defaults, *(Path(folder) for folder in _listed(FOLDERS_ENV, os.pathsep))]
    errors: dict[str, str] = {}
    for package in _listed(PACKAGES_ENV, ","):
        try:
            spec = util.find_spec(package)  # its folder: only a dotted name's parents are imported
        except (ImportError, ValueError):
            spec = None
        if spec is None or not spec.submodule_search_locations:
            errors[f"{PACKAGES_ENV}={package}"] = (
                f"{PACKAGES_ENV}: {package!r} is not an installed package (expected a comma-separated list of "
                "installed packages, each one's folder holding pipeline folders, or being one)")
            continue
        roots.extend(Path(location) for location in spec.submodule_search_locations)
    return list(dict.fromkeys(root.resolve() for root in roots)), errors


def _listed(variable: str, separator: str) -> list[str]:
    return [item.strip() for item in os.environ.get(variable, "").split(separator) if item.strip()]


def pipeline_folders(roots: Iterable[Path]) -> list[Path]:
    """Every folder with a pipeline.toml: a root that is one, or a root's sub-folders, by name."""
    folders: list[Path] = []
    for root in roots:
        if (root / DECLARATION_FILE).is_file():
            folders.append(root)
        else:
            folders.extend(sorted(path.parent for path in root.glob(f"*/{DECLARATION_FILE}")))
    return list(dict.fromkeys(folders))


def declared_pipelines(*defaults: Path) -> tuple[list[PipelineDeclaration], dict[str, str]]:
    """The valid declarations under `defaults` and the environment's roots (pipeline_roots), and the error
    of each invalid one, by its file (or the variable that names a missing package)."""
    roots, errors = pipeline_roots(*defaults)
    valid: list[PipelineDeclaration] = []
    claimed: dict[tuple[str, str], PipelineDeclaration] = {}
    for folder in pipeline_folders(roots):
        try:
            declaration = load_declaration(folder)
            _check_compiled(declaration)
            _check_unclaimed(declaration, claimed)
        except DeclarationError as error:
            errors[str(folder / DECLARATION_FILE)] = str(error)
            continue
        claimed.update({("dag_id", dag_id): declaration for dag_id in declaration.dag_ids})
        for what in ("name", "model_package_group"):
            claimed[(what, getattr(declaration, what))] = declaration
        valid.append(declaration)
    return valid, errors


def _check_compiled(declaration: PipelineDeclaration) -> None:
    if declaration.existing:
        return  # SageMaker has its definition; the run reads it
    path = declaration.compiled_definition
    try:
        definition = json.loads(path.read_text())["definition"]
    except FileNotFoundError:
        raise DeclarationError(f"{declaration.file}: [pipeline] existing is false but {path.name} is missing: "
                               "run `make pipelines` to compile definition.py, or set existing = true for a "
                               "pipeline created elsewhere") from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise DeclarationError(f"{path}: not a compiled definition ({error}): run `make pipelines`") from None
    check_definition(declaration, definition)


def _check_unclaimed(declaration: PipelineDeclaration, claimed: dict[tuple[str, str], PipelineDeclaration]) -> None:
    wanted = [("dag_id", "pipeline", declaration.dag_id), ("name", "pipeline", declaration.name),
              ("model_package_group", "registry", declaration.model_package_group)]
    if declaration.deploy:
        wanted.append(("dag_id", "deploy", declaration.deploy.dag_id))
    if declaration.scoring:
        wanted.append(("dag_id", "scoring", declaration.scoring.dag_id))
    if declaration.events:
        wanted.append(("dag_id", "events", declaration.events.dag_id))
    for what, section, value in wanted:
        other = claimed.get((what, value))
        if other is not None:
            raise DeclarationError(f"{declaration.file}: [{section}] {what}: {value!r} is already "
                                   f"{'a DAG id' if what == 'dag_id' else f'the {what}'} of {other.file}")
    own = [("pipeline", declaration.dag_id), *([("deploy", declaration.deploy.dag_id)] if declaration.deploy else []),
           *([("scoring", declaration.scoring.dag_id)] if declaration.scoring else []),
           *([("events", declaration.events.dag_id)] if declaration.events else [])]
    for index, (section, dag_id) in enumerate(own):
        first = next(other for other, taken in own[:index + 1] if taken == dag_id)
        if first != section:
            raise DeclarationError(f"{declaration.file}: [{section}] dag_id: {dag_id!r} is the [{first}] DAG's id too")
