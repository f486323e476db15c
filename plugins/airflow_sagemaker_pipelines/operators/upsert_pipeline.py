"""Create or update the SageMaker pipeline before a run starts it."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.hooks.sagemaker import SageMakerHook
from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import AirflowFailException

from ..payloads import PipelineRef

if TYPE_CHECKING:
    import boto3
    from airflow.sdk import Context

# (boto3 session, settings mapping, where the settings came from) -> the PipelineRef fields.
PipelineUpsert = Callable[["boto3.session.Session", Mapping[str, Any], str], Mapping[str, Any]]


class UpsertPipelineOperator(AwsBaseOperator[SageMakerHook]):
    """Build the pipeline definition and create or update the pipeline, with the DAG's own builder.

    The builder (e.g. `include.pipelines.upsert.upsert_from_settings`) imports the SageMaker SDK
    when called, never at parse time. It gets a boto3 session bound to this task's connection
    (endpoint_url, region_name, verify and botocore_config included, so the SDK reaches the same
    place the hooks do), the deployment's settings from a JSON Airflow Variable, and the
    Variable's name for its error messages. A settings error fails the task at once: no retry
    mends it. Returns a PipelineRef (multiple outputs).

    :param upsert: the builder; returns pipeline_name, pipeline_arn, pipeline_version, action,
        bucket, model_package_group and region.
    :param settings_variable: the JSON Variable's key (templated).
    """

    aws_hook_class = SageMakerHook
    template_fields: Sequence[str] = aws_template_fields("settings_variable")

    def __init__(self, *, upsert: PipelineUpsert, settings_variable: str, **kwargs: Any) -> None:
        kwargs.setdefault("multiple_outputs", True)
        super().__init__(**kwargs)
        self.upsert = upsert
        self.settings_variable = settings_variable

    def execute(self, context: Context) -> PipelineRef:
        from airflow.sdk import Variable

        from ..hooks.connection_session import connection_session

        source = f"Airflow Variable {self.settings_variable}"
        text = Variable.get(self.settings_variable, default=None)  # parsed here: Airflow would call bad JSON "not set"
        if text is None:
            raise AirflowFailException(
                f"{source} is not set: give it a JSON object such as "
                '{"bucket": "my-ml-bucket", "role_arn": "arn:aws:iam::123456789012:role/SageMakerPipelineRole"}'
            )
        try:
            values = json.loads(text)
        except json.JSONDecodeError as error:
            raise AirflowFailException(f"{source} is not valid JSON: {error}") from None
        try:
            session = connection_session(self.hook)
            result = self.upsert(session, values, source)
        except ValueError as error:  # a bad setting or connection: the same on every try
            raise AirflowFailException(str(error)) from error
        missing = sorted(set(PipelineRef.__annotations__) - set(result))
        if missing:
            raise AirflowFailException(f"{self.upsert!r} returned no {', '.join(missing)}")
        self.log.info("Pipeline %s %s (version %s, %s)", result["pipeline_name"], result["action"],
                      result["pipeline_version"], result["pipeline_arn"])
        return {key: result[key] for key in PipelineRef.__annotations__}  # type: ignore[return-value]
