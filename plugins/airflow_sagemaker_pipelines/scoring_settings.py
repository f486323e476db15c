"""How a pipeline's days are scored: the scoring keys of its settings Variable.

The keys live in the same JSON Variable as the pipeline's settings (deployment_settings.py accepts
them when the declaration has a [scoring] section); each has a default, and a bad value is refused
naming the key and what is allowed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from .declarations import PipelineDeclaration
from .endpoint_settings import is_number

# At most 40: a day's transform job is `<name>-<yyyymmdd>-v<version>[-<attempt>]`, 63 at most.
SCORING_NAME_MAX = 40
_SCORING_NAME = re.compile(rf"^[a-zA-Z0-9](-*[a-zA-Z0-9]){{0,{SCORING_NAME_MAX - 1}}}$")
_INSTANCE_TYPE = re.compile(r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
SCORING_KEYS = ("scoring_name", "scoring_instance_type", "scoring_instance_count", "scoring_uses_same_day_model",
                "score_shift_psi")


class ScoringSettings(NamedTuple):
    name: str  # what the models and transform jobs of the scoring DAG are named after
    instance_type: str
    instance_count: int
    same_day_model: bool  # a day is scored by the model trained on it, once approved (else by the one before)
    shift_psi: float  # a population stability index of the scores above it is a warning in the report


def scoring_settings(values: Mapping[str, Any], source: str, declaration: PipelineDeclaration) -> ScoringSettings:
    """The scoring keys of `values` (the settings Variable, parsed), with their defaults; errors name `source`."""
    group = values.get("model_package_group", declaration.model_package_group)
    default = f"{group}-scoring"[:SCORING_NAME_MAX].rstrip("-")
    settings = ScoringSettings(
        name=values.get("scoring_name", default),
        instance_type=values.get("scoring_instance_type", "ml.m5.large"),
        instance_count=values.get("scoring_instance_count", 1),
        same_day_model=values.get("scoring_uses_same_day_model", False),
        shift_psi=values.get("score_shift_psi", 0.2),
    )
    checks = [
        ("scoring_name", isinstance(settings.name, str) and bool(_SCORING_NAME.match(settings.name)),
         f"letters, digits and hyphens, at most {SCORING_NAME_MAX}"),
        ("scoring_instance_type", isinstance(settings.instance_type, str)
         and bool(_INSTANCE_TYPE.match(settings.instance_type)), "an ml.* instance type such as ml.m5.large"),
        ("scoring_instance_count", is_number(settings.instance_count, whole=True) and settings.instance_count >= 1,
         "a whole number, 1 or more"),
        ("scoring_uses_same_day_model", isinstance(settings.same_day_model, bool), "true or false"),
        ("score_shift_psi", is_number(settings.shift_psi) and settings.shift_psi > 0,
         "a population stability index above 0, such as 0.2"),
    ]
    for key, valid, allowed in checks:
        if not valid:
            raise ValueError(f"{source}: {key}={values.get(key)!r} is invalid: expected {allowed}")
    return settings._replace(shift_psi=float(settings.shift_psi))
