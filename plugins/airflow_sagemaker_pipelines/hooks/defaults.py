"""What every hook of this package adds to the provider's class it extends (mixed in before that class)."""

from __future__ import annotations

from .caller_name import CallerFromFrames
from .shared_models import SharedServiceModels
from .transient_errors import StandardRetries


class HookDefaults(StandardRetries, SharedServiceModels, CallerFromFrames):
    """Standard retries by default, sessions on the process's shared service models, the caller named from the frames."""
