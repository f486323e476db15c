"""Errors raised while validating or running a pipeline definition or a job."""


class DefinitionError(ValueError):
    """The pipeline definition is invalid; the message names the problem (ValidationException)."""


class RequestError(ValueError):
    """A Create*Job request is invalid; the message names the field (ValidationException)."""


class StepFailure(RuntimeError):
    """A step or job failed; the message becomes its FailureReason."""


class StepStopped(RuntimeError):
    """A step or job was ended by StopPipelineExecution or Stop*Job."""


class JobTimedOut(StepFailure):
    """A job ran past its StoppingCondition.MaxRuntimeInSeconds and was ended."""
