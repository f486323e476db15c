"""Create or update the SageMaker pipeline before a run starts it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.hooks.sagemaker import SageMakerHook
from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields

if TYPE_CHECKING:
    from airflow.sdk import Context


class UpsertPipelineOperator(AwsBaseOperator[SageMakerHook]):
    """Build the definition with the SageMaker SDK (imported here, never at parse time) and upsert it.

    The deployment's settings (bucket, role_arn, and optionally pipeline_name,
    model_package_group, instance types...) come from a JSON Airflow Variable; the region is the
    connection's. An unchanged pipeline costs no UpdatePipeline call. Returns pipeline_name,
    pipeline_arn, action (created, updated, unchanged), bucket, model_package_group and region.

    :param settings_variable: the Variable's key (templated).
    """

    aws_hook_class = SageMakerHook
    template_fields: Sequence[str] = aws_template_fields("settings_variable")

    def __init__(self, *, settings_variable: str = "sagemaker_pipeline_settings", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settings_variable = settings_variable

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow.sdk import Variable

        from include.pipelines.sdk_session import session_from_airflow_connection
        from include.pipelines.settings import settings_from_mapping
        from include.pipelines.upsert import upsert_pipeline

        values = Variable.get(self.settings_variable, default=None, deserialize_json=True)
        if values is None:
            raise ValueError(
                f"Airflow Variable {self.settings_variable!r} is not set: give it a JSON object such as "
                '{"bucket": "my-ml-bucket", "role_arn": "arn:aws:iam::123456789012:role/SageMakerPipelineRole"}'
            )
        settings = settings_from_mapping(values, self.hook.conn_region_name, f"Airflow Variable {self.settings_variable}")
        result = upsert_pipeline(session_from_airflow_connection(self.aws_conn_id), settings)
        self.log.info("Pipeline %s %s (%s)", settings.pipeline_name, result.action, result.pipeline_arn)
        return {
            "pipeline_name": settings.pipeline_name,
            "pipeline_arn": result.pipeline_arn,
            "action": result.action,
            "bucket": settings.bucket,
            "model_package_group": settings.model_package_group,
            "region": settings.region,
        }
