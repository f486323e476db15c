"""Fixtures of the endpoint tests: the SDK v3 bound to the endpoint."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="module")
def sdk_session(session: Any, bucket: str) -> Any:
    """SDK v3's PipelineSession whose every client reaches the endpoint; artifacts go to `bucket`."""
    from include.pipelines.sdk_session import pipeline_session

    return pipeline_session(session, bucket)
