"""SendPipelineExecutionStepSuccess and SendPipelineExecutionStepFailure: answering a Callback step.

The step itself (engine/steps/callback.py) sent its token to an SQS queue and waits; these two
calls, with that token, end it. A token no waiting step holds is ResourceNotFound, as the API
reference lists; outputs the step does not declare are a ValidationException naming them.
"""

from __future__ import annotations

from typing import Any

from moto.sagemaker.exceptions import ResourceNotFound, ValidationError

from .engine.steps.callback import callback_tokens


class CallbackSteps:
    """Mixed into the endpoint's SageMaker backend."""

    def send_pipeline_execution_step_success(self, callback_token: str, output_parameters: list[dict[str, Any]] | None
                                             ) -> dict[str, str]:
        try:
            arn = callback_tokens.succeed(callback_token, output_parameters or [])
        except LookupError as error:
            raise ResourceNotFound(str(error)) from None
        except ValueError as error:
            raise ValidationError(str(error)) from None
        return {"PipelineExecutionArn": arn}

    def send_pipeline_execution_step_failure(self, callback_token: str, failure_reason: str | None) -> dict[str, str]:
        try:
            arn = callback_tokens.fail(callback_token, failure_reason)
        except LookupError as error:
            raise ResourceNotFound(str(error)) from None
        return {"PipelineExecutionArn": arn}
