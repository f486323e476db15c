"""Compile each pipeline folder's SDK source into the definition the DAG upserts, with the deployment's values left open.

The SDK builds the definition once with a placeholder for each deployment value (bucket, prefix,
role, registry group: `PipelineSettings.template_values`) and in one region; each placeholder then
becomes `${name}` and each image URI `${<framework>_image}`, whose URI in every region the SDK knows
is listed beside the definition. The upsert (airflow_sagemaker_pipelines.compiled_pipeline) fills
them in and sets the parameter defaults, with no SDK: rendered for given settings, the result is
what the SDK builds for them (tests/pipelines/test_compiled_definition.py checks it, region by region).
The scripts the steps run are recorded with their digests: the upsert uploads them, and refuses a
script edited since the compile.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.util
import json
import logging
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

from airflow_sagemaker_pipelines.declarations import COMPILED_FILE, PipelineDeclaration, load_declaration
from airflow_sagemaker_pipelines.deployment_settings import PipelineSettings, settings_from_mapping

from .sdk_session import boto3_session, pipeline_session

FORMAT = 1
PROJECT_ROOT = Path(__file__).resolve().parents[2]
PIPELINES_ROOT = PROJECT_ROOT / "include" / "pipelines"
SOURCE_FILE = "definition.py"
SCRIPTS_FOLDER = "scripts"
COMPILE_REGION = "us-east-1"
# Values no real deployment uses, each valid where it goes and found nowhere else in a definition.
PLACEHOLDER_VALUES = {
    "role_arn": "arn:aws:iam::000000000000:role/placeholder-role-5e1f",
    "bucket": "placeholder-bucket-5e1f",
    "prefix": "placeholder-prefix-5e1f",
    "model_package_group": "placeholder-group-5e1f",
}


class CompileError(ValueError):
    """The SDK's definition cannot be turned into a template; the message says where."""


@dataclass(frozen=True)
class PipelineSource:
    """A pipeline folder with an SDK source: its declaration and its definition module.

    The module gives `build_pipeline(settings, sagemaker_session, code_uris)`, `SCRIPTS` (the files
    of scripts/ its steps run), `IMAGES` (framework -> version) and `image_uri(framework, region)`.
    """

    declaration: PipelineDeclaration
    module: ModuleType

    @property
    def folder(self) -> Path:
        return self.declaration.folder

    @property
    def compiled_path(self) -> Path:
        return self.folder / COMPILED_FILE

    def placeholders(self) -> PipelineSettings:
        return settings_from_mapping(PLACEHOLDER_VALUES, COMPILE_REGION, "placeholders", self.declaration)


def pipeline_sources(root: Path = PIPELINES_ROOT) -> list[PipelineSource]:
    """Every folder of `root` with a pipeline.toml and a definition.py, by name."""
    return [load_source(source.parent) for source in sorted(root.glob(f"*/{SOURCE_FILE}"))
            if (source.parent / "pipeline.toml").is_file()]


def load_source(folder: Path) -> PipelineSource:
    """The folder's declaration and definition module (imported as a package module where it is one)."""
    declaration = load_declaration(folder)
    try:
        relative = folder.resolve().relative_to(PROJECT_ROOT)
        module = importlib.import_module(".".join((*relative.parts, Path(SOURCE_FILE).stem)))
    except ValueError:  # outside the project: by path
        name = f"pipeline_source_{declaration.key}"
        spec = importlib.util.spec_from_file_location(name, folder / SOURCE_FILE)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return PipelineSource(declaration, module)


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def scripts_digest(scripts: dict[str, str]) -> str:
    """One digest of every script (name and content digest): the S3 folder the scripts are uploaded to."""
    joined = "".join(f"{name}\0{digest}\n" for name, digest in sorted(scripts.items()))
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


def code_uris(settings: PipelineSettings, scripts: dict[str, str]) -> dict[str, str]:
    folder = settings.s3_uri("code", scripts_digest(scripts))
    return {name: f"{folder}/{name}" for name in scripts}


def script_digests(source: PipelineSource) -> dict[str, str]:
    folder = source.folder / SCRIPTS_FOLDER
    return {name: file_digest(folder / name) for name in source.module.SCRIPTS}


def build(source: PipelineSource, settings: PipelineSettings) -> dict[str, Any]:
    """The definition the SDK builds for `settings`, offline (no request is sent)."""
    session = boto3_session(settings.region, "http://127.0.0.1:9")  # never reached: nothing is called
    sdk_session = pipeline_session(session, settings.bucket)
    pipeline = source.module.build_pipeline(settings, sdk_session, code_uris(settings, script_digests(source)))
    return json.loads(pipeline.definition())


def _regions(source: PipelineSource, framework: str) -> list[str]:
    from sagemaker.core import image_uris

    config = image_uris.config_for_framework(framework)
    # A framework's config holds a scope per use (training, inference), or one scope's versions (model-monitor).
    scopes = {"": config} if "versions" in config else config
    version = source.module.IMAGES[framework]
    return sorted({region for scope in scopes.values() if version in scope.get("versions", {})
                   for region in scope["versions"][version]["registries"]})


def _substitute(node: Any, within: dict[str, str], whole: dict[str, str]) -> Any:
    """Markers for the values found `within` strings, and for strings that are `whole` a value."""
    if isinstance(node, dict):
        return {key: _substitute(value, within, whole) for key, value in node.items()}
    if isinstance(node, list):
        return [_substitute(value, within, whole) for value in node]
    if isinstance(node, str):
        if node in whole:
            return whole[node]
        for value, marker in within.items():
            node = node.replace(value, marker)
    return node


@contextlib.contextmanager
def _sdk_quiet() -> Iterator[None]:
    """The SDK logs every image lookup and its notes on the definition: not news while compiling."""
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


def compile_pipeline(source: PipelineSource) -> dict[str, Any]:
    """The compiled pipeline: the definition template, each image's URI per region, the scripts."""
    placeholders = source.placeholders()
    with _sdk_quiet():
        built = build(source, placeholders)
        images = {f"{framework.replace('-', '_')}_image": {region: source.module.image_uri(framework, region)
                                         for region in _regions(source, framework)}
                  for framework in source.module.IMAGES}
    values = placeholders.template_values()
    within = {uris[COMPILE_REGION]: f"${{{name}}}" for name, uris in images.items()}
    # Longest first, so that no value is replaced inside a longer one.
    for name, value in sorted(values.items(), key=lambda item: -len(item[1])):
        if name != "region":
            within[value] = f"${{{name}}}"
    template = _substitute(built, within, whole={values["region"]: "${region}"})
    text = json.dumps(template)
    if COMPILE_REGION in text:
        raise CompileError(f"{source.folder}: the definition names the region {COMPILE_REGION} inside a longer text, "
                           "outside an image URI: give that value a placeholder")
    if "5e1f" in text:
        raise CompileError(f"{source.folder}: a placeholder was changed by the SDK and is left in the definition")
    scripts = script_digests(source)
    return {
        "format": FORMAT,
        "compiled_by": f"sagemaker {metadata.version('sagemaker')}; make pipelines",
        "placeholders": sorted(values),
        "regional_values": images,
        "scripts": {"folder": os.path.relpath(source.folder / SCRIPTS_FOLDER, source.folder),
                    "s3_folder": f"code/{scripts_digest(scripts)}",
                    "files": scripts},
        "definition": template,
    }


def compiled_text(compiled: dict[str, Any]) -> str:
    return json.dumps(compiled, indent=1, sort_keys=True) + "\n"
