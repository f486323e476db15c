"""Built pipeline definitions kept on disk, so that an unchanged pipeline's upsert does not import the SDK.

Importing the SageMaker SDK and building the definition costs the upsert task ~4 s of CPU, in every
DAG run. The definition is a pure function of the settings, this package's source (definition.py,
contract.py, the scripts through their content-hash code URIs) and the SDK's version: it builds
offline (tests/pipelines/test_definition.py). The cache key is a digest of all of them, so an edited
file or an upgraded SDK builds again. Only the build is skipped: the upsert still compares the
definition with the pipeline's and updates it when they differ.

Where: $SAGEMAKER_PIPELINES_DEFINITION_CACHE, else $XDG_CACHE_HOME (or ~/.cache)
/airflow-sagemaker-pipelines/definitions; the value "off" builds every time.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from .settings import PipelineSettings

CACHE_ENV = "SAGEMAKER_PIPELINES_DEFINITION_CACHE"
PACKAGE_DIR = Path(__file__).resolve().parent


def cache_dir() -> Path | None:
    """Where definitions are kept; None when the cache is off."""
    configured = os.environ.get(CACHE_ENV, "")
    if configured.lower() == "off":
        return None
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "airflow-sagemaker-pipelines" / "definitions"


@functools.cache
def source_digest() -> str:
    """Every file of this package, the scripts included: what the definition is built from."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        digest.update(str(path.relative_to(PACKAGE_DIR)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def cache_key(settings: PipelineSettings, code_uris: dict[str, str]) -> str:
    facts = {
        "settings": dataclasses.asdict(settings),
        "code_uris": code_uris,
        "source": source_digest(),
        "sdk": metadata.version("sagemaker"),
        "python": list(sys.version_info[:2]),
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


def cached_definition(settings: PipelineSettings, code_uris: dict[str, str], build: Callable[[], str]) -> str:
    """The definition kept for these inputs, else `build()`'s, kept for the next time.

    A kept file that is not valid JSON is built again and replaced; one that cannot be written
    costs only the next task its build."""
    folder = cache_dir()
    if folder is None:
        return build()
    path = folder / f"{cache_key(settings, code_uris)}.json"
    try:
        kept = path.read_text()
        json.loads(kept)
        return kept
    except (OSError, ValueError):
        pass
    definition = build()
    written = None
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Written whole, then renamed: a task running beside this one reads the old file or the new, never half.
        with tempfile.NamedTemporaryFile("w", dir=folder, suffix=".tmp", delete=False) as handle:
            written = handle.name
            handle.write(definition)
        os.replace(written, path)
    except OSError:
        if written:
            with contextlib.suppress(OSError):
                os.unlink(written)
    return definition
