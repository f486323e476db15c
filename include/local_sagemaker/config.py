"""Where the running endpoint lives; set by the server before it serves its first request."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class EndpointConfig:
    endpoint_url: str | None = None
    work_dir: Path | None = None


endpoint_config = EndpointConfig()
