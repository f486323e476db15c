"""Token and display name: stable per run, distinct across runs, always valid for the API."""

from __future__ import annotations

import re

import pytest
from airflow_sagemaker_pipelines.execution_identity import client_request_token, execution_display_name

DISPLAY_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,81}$")
RUN_IDS = [
    "scheduled__2024-03-01T00:00:00+00:00",
    "manual__2026-11-26T17:18:14.323163+00:00",
    "backfill__2024-03-01T00:00:00+00:00",
    "my run with spaces & symbols!",
    "x" * 300,
    "---",
    "ünïcødé",
]


@pytest.mark.parametrize("run_id", RUN_IDS)
def test_display_name_is_valid_for_sagemaker(run_id: str) -> None:
    name = execution_display_name("sagemaker_training_pipeline", run_id)
    assert DISPLAY_NAME.match(name), name
    assert len(name) <= 82


def test_display_name_keeps_the_run_readable() -> None:
    name = execution_display_name("dag", "scheduled__2024-03-01T00:00:00+00:00")
    assert name.startswith("scheduled-2024-03-01T00-00-00-00-00-")


def test_runs_differing_only_in_punctuation_get_different_names() -> None:
    assert execution_display_name("dag", "run:1") != execution_display_name("dag", "run-1")


def test_token_is_stable_for_a_run_and_distinct_across_runs_dags_and_pipelines() -> None:
    token = client_request_token("dag", "run-1", "pipeline")
    assert token == client_request_token("dag", "run-1", "pipeline")
    assert 32 <= len(token) <= 128
    others = {client_request_token("dag", "run-2", "pipeline"), client_request_token("other", "run-1", "pipeline"),
              client_request_token("dag", "run-1", "other-pipeline")}
    assert token not in others and len(others) == 3


def test_display_name_shows_the_data_day_and_the_attempt() -> None:
    first = execution_display_name("dag", "backfill__2024-03-21T00:00:00+00:00", data_day="2024-03-20")
    second = execution_display_name("dag", "backfill__2024-03-21T00:00:00+00:00", data_day="2024-03-20", attempt=1)
    assert first.startswith("ds-2024-03-20-backfill-2024-03-21T00-00-00-00-00-")
    assert second == f"{first}-a2" and DISPLAY_NAME.match(second)


def test_each_attempt_has_its_own_token_and_the_first_is_the_one_runs_always_had() -> None:
    import hashlib

    tokens = [client_request_token("dag", "run-1", "pipeline", attempt) for attempt in range(3)]
    assert len(set(tokens)) == 3
    # runs started before attempts existed used this token: clearing them finds their execution
    assert tokens[0] == hashlib.sha256(b"dag\0run-1\0pipeline").hexdigest()
