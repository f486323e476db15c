"""How serving fails: a deployment that cannot start, an invocation the endpoint or the model refuses."""

from __future__ import annotations


class DeploymentFailure(RuntimeError):
    """A variant could not start (bad artifact, unknown image, a model that does not load): the FailureReason."""


class InvocationRefused(RuntimeError):
    """The endpoint refuses the request before any model sees it: AWS's ValidationError."""


class ModelFailure(RuntimeError):
    """The model's container answered an error, or none: AWS's ModelError (HTTP 424)."""

    def __init__(self, message: str, original_status: int, original_message: str, log_stream_arn: str) -> None:
        super().__init__(message)
        self.original_status = original_status
        self.original_message = original_message
        self.log_stream_arn = log_stream_arn


class InstanceUnavailable(RuntimeError):
    """The instance's process is gone (it died, or was replaced) before it answered: try another instance."""
