"""A client of the plugin's UI app (ui/model_quality_app.py) in process, signed in as an admin."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def client(airflow_environment: None, monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[Any]:
    """A client of the plugin's app with a signed-in admin's token (the simple auth manager's JWT)."""
    from airflow.api_fastapi.app import purge_cached_app
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from airflow_sagemaker_pipelines.ui.model_quality_app import build_app
    from fastapi.testclient import TestClient

    monkeypatch.setenv("AIRFLOW__API_AUTH__JWT_SECRET", "model-quality-test-secret")
    monkeypatch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", str(tmp_path / "passwords.json"))
    purge_cached_app()
    from airflow.api_fastapi.app import create_auth_manager

    manager = create_auth_manager()
    manager.init()
    token = manager.generate_jwt(SimpleAuthManagerUser(username="admin", role="admin"))
    with TestClient(build_app()) as test_client:
        test_client.headers["Authorization"] = f"Bearer {token}"
        test_client.token_for = manager.generate_jwt  # another user's token: client.token_for(SimpleAuthManagerUser)
        yield test_client
    purge_cached_app()
