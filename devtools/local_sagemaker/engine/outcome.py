"""What a step gives the execution when it succeeds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class StepOutcome:
    properties: dict[str, Any]  # what `Get Steps.<name>.<path>` reads
    metadata: dict[str, Any]  # ListPipelineExecutionSteps Metadata
    property_files: dict[str, Any] = field(default_factory=dict)  # name -> JSON document
