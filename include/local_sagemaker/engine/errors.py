"""Errors raised while validating or running a pipeline definition."""


class DefinitionError(ValueError):
    """The pipeline definition is invalid; the message names the problem (ValidationException)."""


class StepFailure(RuntimeError):
    """A step failed; the message becomes the step's FailureReason."""


class StepStopped(RuntimeError):
    """A step was ended by StopPipelineExecution."""
