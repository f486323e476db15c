"""Where the running endpoint lives and how it runs steps; set by the server before it serves."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# Seconds each pipeline step and standalone job stays Starting before it runs (0: off).
STARTUP_DELAY_VARIABLE = "LOCAL_SAGEMAKER_STEP_STARTUP_DELAY"


@dataclass
class EndpointConfig:
    endpoint_url: str | None = None
    work_dir: Path | None = None
    step_startup_delay: float = 0.0


def startup_delay_from_environment() -> float:
    text = os.environ.get(STARTUP_DELAY_VARIABLE, "").strip()
    if not text:
        return 0.0
    try:
        seconds = float(text)
    except ValueError:
        raise ValueError(f"{STARTUP_DELAY_VARIABLE}={text!r} is not a number of seconds") from None
    if seconds < 0:
        raise ValueError(f"{STARTUP_DELAY_VARIABLE}={text!r} must be 0 or more seconds")
    return seconds


endpoint_config = EndpointConfig()
