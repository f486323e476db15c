"""What compiling ahead buys the upsert task: filling in the compiled definition against building it with the SDK."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import PROJECT_ROOT

# Each starts the clock where the upsert task stands: Airflow and the settings imported.
LOADED = """
import time
from pathlib import Path
from airflow_sagemaker_pipelines.declarations import load_declaration
from airflow_sagemaker_pipelines.deployment_settings import settings_from_mapping
declaration = load_declaration(Path("include/pipelines/classification"))
settings = settings_from_mapping({"role_arn": "arn:aws:iam::123456789012:role/R", "bucket": "b-perf"}, "eu-west-1",
                                 "settings", declaration)
started = time.perf_counter()
"""
SDK_BUILD = LOADED + """
from devtools.pipeline_compiler.compiler import build, load_source
build(load_source(declaration.folder), settings)
print(time.perf_counter() - started)
"""
RENDER = LOADED + """
from airflow_sagemaker_pipelines.compiled_pipeline import CompiledPipeline
CompiledPipeline.load(declaration.compiled_definition).render(settings.template_values(), settings.parameter_defaults())
print(time.perf_counter() - started)
"""


def seconds(program: str) -> float:
    completed = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True,
                               cwd=PROJECT_ROOT, env={"PYTHONPATH": f"{PROJECT_ROOT}:{PROJECT_ROOT / 'plugins'}",
                                                      "PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1"})
    return float(completed.stdout.strip().splitlines()[-1])


@pytest.mark.perf
def test_filling_in_the_compiled_definition_against_building_it_with_the_sdk() -> None:
    sdk = min(seconds(SDK_BUILD) for _ in range(2))
    rendered = min(seconds(RENDER) for _ in range(2))
    print(f"\nA fresh process's definition: SDK import and build {sdk:.2f} s, compiled definition filled in "
          f"{rendered:.3f} s: {sdk / rendered:.0f}x")
    assert rendered < sdk
