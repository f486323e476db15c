"""The classification pipeline as a deployment runs it: its compiled definition, and what the settings fill in."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import contract
from .settings import settings_from_mapping

COMPILED_DEFINITION = Path(__file__).resolve().parent / contract.COMPILED_DEFINITION


def pipeline_deployment(values: Mapping[str, Any], region: str, source: str) -> dict[str, Any]:
    """The deployment's settings (an Airflow Variable's JSON), checked: what UpsertPipelineOperator fills in.

    A bad setting is a ValueError naming `source` and the key; nothing is created or updated then.
    """
    settings = settings_from_mapping(values, region, source)
    return {
        "pipeline_name": settings.pipeline_name,
        "role_arn": settings.role_arn,
        "bucket": settings.bucket,
        "prefix": settings.prefix,
        "model_package_group": settings.model_package_group,
        "region": settings.region,
        "template_values": settings.template_values(),
        "parameter_defaults": settings.parameter_defaults(),
    }
