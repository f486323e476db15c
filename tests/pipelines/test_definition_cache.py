"""An unchanged pipeline's upsert reuses the definition built before; any change of input builds again."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from include.pipelines import definition_cache
from include.pipelines.definition_cache import CACHE_ENV, cached_definition
from tests.conftest import PROJECT_ROOT

UPSERT_IN_A_NEW_PROCESS = """
import json, sys
from include.pipelines.sdk_session import boto3_session
from include.pipelines.settings import PipelineSettings
from include.pipelines.upsert import upsert_pipeline
settings = PipelineSettings(**json.loads(sys.argv[2]))
result = upsert_pipeline(boto3_session(settings.region, sys.argv[1]), settings)
print(json.dumps({"action": result.action, "version": result.version, "sdk_imported": "sagemaker" in sys.modules}))
"""


class Builds:
    """A stand-in build that counts its calls."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> str:
        self.count += 1
        return json.dumps({"Version": "2020-12-01", "Build": self.count})


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "definitions"))
    return tmp_path / "definitions"


def test_an_unchanged_pipeline_is_upserted_from_a_new_process_without_importing_the_sdk(
        endpoint: str, pipeline_settings, cache: Path) -> None:
    settings = dataclasses.replace(pipeline_settings, pipeline_name="definition-cache")

    def upsert() -> dict:
        done = subprocess.run([sys.executable, "-c", UPSERT_IN_A_NEW_PROCESS, endpoint,
                               json.dumps(dataclasses.asdict(settings))], cwd=PROJECT_ROOT, capture_output=True,
                              text=True, check=True)
        return json.loads(done.stdout.splitlines()[-1])

    first, second = upsert(), upsert()

    assert (first["action"], first["sdk_imported"]) == ("created", True)
    assert (second["action"], second["sdk_imported"]) == ("unchanged", False)
    assert second["version"] == first["version"]
    assert len(list(cache.glob("*.json"))) == 1


def test_a_changed_setting_source_or_sdk_version_builds_again(pipeline_settings, cache: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    build = Builds()
    uris = {"preprocess.py": "s3://bucket/pipeline/code/0123/preprocess.py"}
    first = cached_definition(pipeline_settings, uris, build)
    assert cached_definition(pipeline_settings, uris, build) == first and build.count == 1

    cached_definition(dataclasses.replace(pipeline_settings, training_instance_type="ml.m5.2xlarge"), uris, build)
    assert build.count == 2
    cached_definition(pipeline_settings, {"preprocess.py": "s3://bucket/pipeline/code/4567/preprocess.py"}, build)
    assert build.count == 3
    monkeypatch.setattr(definition_cache, "source_digest", lambda: "an edited definition.py")
    cached_definition(pipeline_settings, uris, build)
    assert build.count == 4
    monkeypatch.setattr(definition_cache.metadata, "version", lambda _: "99.0.0")
    cached_definition(pipeline_settings, uris, build)
    assert build.count == 5


def test_a_damaged_kept_definition_is_built_again_and_replaced(pipeline_settings, cache: Path) -> None:
    build = Builds()
    cached_definition(pipeline_settings, {}, build)
    (kept,) = cache.glob("*.json")
    kept.write_text('{"Version": "2020-12-01", "Ste')  # a disk that filled up mid-write, say

    rebuilt = cached_definition(pipeline_settings, {}, build)

    assert build.count == 2 and json.loads(rebuilt) == {"Version": "2020-12-01", "Build": 2}
    assert kept.read_text() == rebuilt
    assert [p.name for p in cache.iterdir()] == [kept.name]  # no temporary file left


def test_off_builds_every_time_and_keeps_nothing(pipeline_settings, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_ENV, "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    build = Builds()
    cached_definition(pipeline_settings, {}, build)
    cached_definition(pipeline_settings, {}, build)
    assert build.count == 2 and list(tmp_path.iterdir()) == []


def test_a_cache_that_cannot_be_written_costs_only_the_build(pipeline_settings, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    monkeypatch.setenv(CACHE_ENV, str(not_a_folder / "definitions"))
    build = Builds()
    assert json.loads(cached_definition(pipeline_settings, {}, build))["Build"] == 1
    assert json.loads(cached_definition(pipeline_settings, {}, build))["Build"] == 2
