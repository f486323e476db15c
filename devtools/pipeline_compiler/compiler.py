"""Compile a pipeline's SDK source into the definition the DAG upserts, with the deployment's values left open.

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
import json
import logging
import os
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

from include.pipelines import contract, definition
from include.pipelines.settings import PipelineSettings

from .sdk_session import boto3_session, pipeline_session

FORMAT = 1
PIPELINES_DIR = Path(definition.__file__).resolve().parent
COMPILE_REGION = "us-east-1"
# Values no real deployment uses, each valid where it goes and found nowhere else in a definition.
PLACEHOLDERS = PipelineSettings(
    region=COMPILE_REGION,
    role_arn="arn:aws:iam::000000000000:role/placeholder-role-5e1f",
    bucket="placeholder-bucket-5e1f",
    prefix="placeholder-prefix-5e1f",
    model_package_group="placeholder-group-5e1f",
)


class CompileError(ValueError):
    """The SDK's definition cannot be turned into a template; the message says where."""


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def scripts_digest(scripts: dict[str, str]) -> str:
    """One digest of every script (name and content digest): the S3 folder the scripts are uploaded to."""
    joined = "".join(f"{name}\0{digest}\n" for name, digest in sorted(scripts.items()))
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


def code_uris(settings: PipelineSettings, scripts: dict[str, str]) -> dict[str, str]:
    folder = settings.s3_uri("code", scripts_digest(scripts))
    return {name: f"{folder}/{name}" for name in scripts}


def script_digests() -> dict[str, str]:
    folder = PIPELINES_DIR / contract.SCRIPTS_FOLDER
    return {name: file_digest(folder / name) for name in definition.SCRIPTS}


def build(settings: PipelineSettings) -> dict[str, Any]:
    """The definition the SDK builds for `settings`, offline (no request is sent)."""
    session = boto3_session(settings.region, "http://127.0.0.1:9")  # never reached: nothing is called
    sdk_session = pipeline_session(session, settings.bucket)
    pipeline = definition.build_pipeline(settings, sdk_session, code_uris(settings, script_digests()))
    return json.loads(pipeline.definition())


def _regions(framework: str) -> list[str]:
    from sagemaker.core import image_uris

    scopes = image_uris.config_for_framework(framework)
    version = definition.IMAGES[framework]
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


def compile_pipeline() -> dict[str, Any]:
    """The compiled pipeline: the definition template, each image's URI per region, the scripts."""
    with _sdk_quiet():
        built = build(PLACEHOLDERS)
        images = {f"{framework}_image": {region: definition.image_uri(framework, region)
                                         for region in _regions(framework)} for framework in definition.IMAGES}
    values = PLACEHOLDERS.template_values()
    within = {uris[COMPILE_REGION]: f"${{{name}}}" for name, uris in images.items()}
    # Longest first, so that no value is replaced inside a longer one.
    for name, value in sorted(values.items(), key=lambda item: -len(item[1])):
        if name != "region":
            within[value] = f"${{{name}}}"
    template = _substitute(built, within, whole={values["region"]: "${region}"})
    text = json.dumps(template)
    if COMPILE_REGION in text:
        raise CompileError(f"the definition names the region {COMPILE_REGION} inside a longer text, outside an "
                           "image URI: give that value a placeholder")
    if "5e1f" in text:
        raise CompileError("a placeholder was changed by the SDK and is left in the definition")
    scripts = script_digests()
    return {
        "format": FORMAT,
        "compiled_by": f"sagemaker {metadata.version('sagemaker')}; make pipelines",
        "placeholders": sorted(values),
        "regional_values": images,
        "scripts": {"folder": os.path.relpath(PIPELINES_DIR / contract.SCRIPTS_FOLDER, compiled_path().parent),
                    "s3_folder": f"code/{scripts_digest(scripts)}",
                    "files": scripts},
        "definition": template,
    }


def compiled_text(compiled: dict[str, Any]) -> str:
    return json.dumps(compiled, indent=1, sort_keys=True) + "\n"


def compiled_path() -> Path:
    return PIPELINES_DIR / contract.COMPILED_DEFINITION
