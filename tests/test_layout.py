"""The layout's rules (README "Develop", docs/design.md), checked on the sources: what imports what, names, and what ships.

- The product (dags/, plugins/, include/) never imports the local tools (devtools/) or the tests.
- plugins/ does not import include/ (a DAG hands include/'s callables to the operators), and nothing
  of the product imports the SageMaker SDK but the pipeline's SDK source, which only `make pipelines` runs.
- No two modules share a base name, but those that play the same role in parallel folders.
- The product overrides no private method of the Amazon provider and ships no airflow_local_settings.py.
- The provider info lists every hook, operator, sensor and trigger module, and every link.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from collections import defaultdict
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

PRODUCT = ("dags", "plugins", "include")
TOOLS = ("devtools",)
# Modules that play the same role in parallel folders may share a name (hooks/x.py, sensors/x.py, ...).
PARALLEL_ROLES = {"hooks", "operators", "sensors", "triggers"}
PIPELINES = PROJECT_ROOT / "include" / "pipelines"
# The SDK source: each pipeline folder's definition and the building blocks they share.
SDK_SOURCES = sorted([*PIPELINES.glob("*/definition.py"), PIPELINES / "sdk_steps.py"])
PACKAGE = "airflow_sagemaker_pipelines"


def python_files(*folders: str) -> list[Path]:
    return sorted(path for folder in folders for path in (PROJECT_ROOT / folder).rglob("*.py")
                  if "__pycache__" not in path.parts)


def imported_modules(path: Path) -> set[str]:
    """Every absolute module an import statement of the file names, relative ones resolved."""
    tree = ast.parse(path.read_text(), str(path))
    package = ".".join(path.relative_to(PROJECT_ROOT).with_suffix("").parts[:-1])
    if path.is_relative_to(PROJECT_ROOT / "plugins"):
        package = package.removeprefix("plugins").lstrip(".")
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                found.add(".".join([*base, node.module] if node.module else base))
            elif node.module:
                found.add(node.module)
    return found


def roots(modules: set[str]) -> set[str]:
    return {module.split(".")[0] for module in modules}


@pytest.mark.parametrize("path", python_files(*PRODUCT), ids=lambda path: str(path.relative_to(PROJECT_ROOT)))
def test_the_product_never_imports_the_local_tools_or_the_tests(path: Path) -> None:
    assert not roots(imported_modules(path)) & {*TOOLS, "tests"}


@pytest.mark.parametrize("path", python_files("plugins"), ids=lambda path: str(path.relative_to(PROJECT_ROOT)))
def test_the_plugin_never_imports_include(path: Path) -> None:
    assert "include" not in roots(imported_modules(path))


def test_nothing_of_the_product_imports_the_sdk_but_the_pipelines_sdk_source() -> None:
    importing = [str(path.relative_to(PROJECT_ROOT)) for path in python_files(*PRODUCT)
                 if "sagemaker" in roots(imported_modules(path))]
    assert sorted(importing) == [str(path.relative_to(PROJECT_ROOT)) for path in SDK_SOURCES]
    assert len(SDK_SOURCES) >= 3
    for source in SDK_SOURCES:
        top_level = [name.split(".")[0] for node in ast.parse(source.read_text()).body
                     for name in ([node.module or ""] if isinstance(node, ast.ImportFrom) else
                                  [alias.name for alias in node.names] if isinstance(node, ast.Import) else [])]
        assert "sagemaker" not in top_level, f"{source}: the SDK is imported only inside functions"


def test_no_two_modules_share_a_base_name_unless_they_play_one_role_in_parallel_folders() -> None:
    by_name: dict[str, list[Path]] = defaultdict(list)
    for path in python_files(*PRODUCT, *TOOLS):
        if path.name not in ("__init__.py", "__main__.py"):
            by_name[path.name].append(path)
    shared = {name: [str(path.relative_to(PROJECT_ROOT)) for path in paths] for name, paths in by_name.items()
              if len(paths) > 1 and not all(path.parent.name in PARALLEL_ROLES or _in_a_pipeline_folder(path)
                                            for path in paths)}
    assert shared == {}


def _in_a_pipeline_folder(path: Path) -> bool:
    """Pipeline folders are parallel by design: each has its definition.py and scripts."""
    return PIPELINES in path.parents and any((folder / "pipeline.toml").is_file()
                                             for folder in path.parents if PIPELINES in folder.parents)


def test_the_product_ships_no_airflow_local_settings() -> None:
    assert [path for path in python_files(*PRODUCT) if path.name == "airflow_local_settings.py"] == []


def _package_classes() -> list[type]:
    package = importlib.import_module(PACKAGE)
    classes = []
    for module_info in pkgutil.walk_packages(package.__path__, f"{PACKAGE}."):
        module = importlib.import_module(module_info.name)
        classes += [value for value in vars(module).values()
                    if inspect.isclass(value) and value.__module__ == module.__name__]
    return classes


def test_the_plugin_overrides_no_private_method_of_airflow_or_its_providers() -> None:
    overridden = []
    for cls in _package_classes():
        for name, value in vars(cls).items():
            if not name.startswith("_") or name.startswith("__"):
                continue
            if not (inspect.isfunction(value) or isinstance(value, staticmethod | classmethod | property)):
                continue  # the ABC machinery's attributes, say
            owners = [base for base in cls.__mro__[1:] if name in vars(base) and base.__module__.startswith("airflow.")]
            if owners:
                overridden.append(f"{cls.__module__}.{cls.__qualname__}.{name} (of {owners[0].__module__}."
                                  f"{owners[0].__qualname__})")
    assert overridden == []


def test_the_provider_info_lists_every_hook_operator_sensor_and_trigger_module_and_every_link() -> None:
    from airflow_sagemaker_pipelines.get_provider_info import get_provider_info
    from airflow_sagemaker_pipelines.links import BaseOperatorLink

    info = get_provider_info()
    for kind in ("hooks", "operators", "sensors", "triggers"):
        listed = {module for entry in info[kind] for module in entry["python-modules"]}
        folder = PROJECT_ROOT / "plugins" / PACKAGE / kind
        present = {f"{PACKAGE}.{kind}.{path.stem}" for path in folder.glob("*.py") if path.name != "__init__.py"}
        assert listed == present, kind
        for module in listed:
            importlib.import_module(module)
    links = {f"{cls.__module__}.{cls.__qualname__}" for cls in _package_classes()
             if issubclass(cls, BaseOperatorLink) and cls.__module__ == f"{PACKAGE}.links"}
    assert set(info["extra-links"]) == links
    assert info["package-name"] == "airflow-sagemaker-pipelines"
    assert info["versions"] == [importlib.import_module(PACKAGE).__version__]
