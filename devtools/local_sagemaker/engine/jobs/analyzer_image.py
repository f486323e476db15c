"""SageMaker Model Monitor's analyzer image, which processing jobs emulate (containers/model_monitor_analyzer.py).

DefaultModelMonitor and QualityCheckStep run `<account>.dkr.ecr.<region>.amazonaws.com/
sagemaker-model-monitor-analyzer` (the SDK's image_uri_config/model-monitor.json; the account
differs per region), recognised here by its repository as the XGBoost image is. The image has its
own entrypoint and is configured by environment variables; a job that overrides the entrypoint
would run something else in it, which the endpoint cannot.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ..errors import StepFailure
from .container import image_repository

ANALYZER_REPOSITORY = "sagemaker-model-monitor-analyzer"
ANALYZER_CONTAINER = Path(__file__).resolve().parents[2] / "containers" / "model_monitor_analyzer.py"


def is_model_monitor_analyzer(image: str) -> bool:
    return image_repository(image) == ANALYZER_REPOSITORY


def analyzer_command(app: dict[str, Any]) -> list[str]:
    """The analyzer stand-in's command line (its root, /opt/ml, as its argument)."""
    if app.get("ContainerEntrypoint"):
        raise StepFailure(
            f"AppSpecification.ContainerEntrypoint {app['ContainerEntrypoint']} is not emulated for image "
            f"'{app.get('ImageUri')}': the local endpoint runs the Model Monitor analyzer with its own entrypoint "
            "only (leave ContainerEntrypoint out, as DefaultModelMonitor does)"
        )
    return [sys.executable, str(ANALYZER_CONTAINER), "/opt/ml"]
