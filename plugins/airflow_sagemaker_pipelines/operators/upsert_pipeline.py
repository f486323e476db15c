"""Create or update the SageMaker pipeline from its compiled definition before a run starts it."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import AirflowFailException

from ..compiled_pipeline import CompiledPipeline, CompiledPipelineError, definition_version
from ..hooks.pipeline_definition import PipelineDefinitionHook
from ..payloads import PipelineDeployment, PipelineRef

if TYPE_CHECKING:
    from airflow.sdk import Context

# (settings mapping, region, where the settings came from) -> the deployment; a bad setting is a ValueError.
DeploymentSettings = Callable[[Mapping[str, Any], str, str], PipelineDeployment]


class UpsertPipelineOperator(AwsBaseOperator[PipelineDefinitionHook]):
    """Fill the compiled definition in with the deployment's settings, upload its scripts, create or update the pipeline.

    The definition was compiled ahead from the pipeline's SDK source (`make pipelines`): nothing here
    imports the SageMaker SDK. The deployment's settings are a JSON Airflow Variable; the DAG's
    `deployment` callable (e.g. `include.pipelines.deployment.pipeline_deployment`) checks them and
    says what they make of the compiled pipeline. Scripts are uploaded once per content (their S3
    folder is their digest); an unchanged pipeline costs no UpdatePipeline call. A bad setting, a
    stale compiled file or a connection without a region fails the task at once: no retry mends
    them. Returns a PipelineRef (multiple outputs).

    :param compiled_definition: the compiled definition's path (JSON written by `make pipelines`).
    :param deployment: (settings, region, source) -> PipelineDeployment.
    :param settings_variable: the JSON Variable's key (templated).
    """

    aws_hook_class = PipelineDefinitionHook
    template_fields: Sequence[str] = aws_template_fields("settings_variable")

    def __init__(self, *, compiled_definition: str | Path, deployment: DeploymentSettings, settings_variable: str,
                 **kwargs: Any) -> None:
        kwargs.setdefault("multiple_outputs", True)
        super().__init__(**kwargs)
        self.compiled_definition = compiled_definition
        self.deployment = deployment
        self.settings_variable = settings_variable

    def execute(self, context: Context) -> PipelineRef:
        from airflow.sdk import Variable

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
        return self.upsert(values, source)

    def upsert(self, values: Mapping[str, Any], source: str) -> PipelineRef:
        """The upsert for these settings (`source` names them in errors): what `execute` does once it has read them."""
        region = self.hook.conn_region_name
        if not region:
            raise AirflowFailException(f"Airflow connection {self.aws_conn_id!r} has no region_name: set it in the "
                                       "connection's extra")
        try:
            deployment = self.deployment(values, region, source)
            compiled = CompiledPipeline.load(self.compiled_definition)
            definition = compiled.render(deployment["template_values"], deployment["parameter_defaults"])
            scripts = compiled.scripts(deployment["prefix"])
        except (ValueError, CompiledPipelineError) as error:  # the same on every try
            raise AirflowFailException(str(error)) from error
        self._upload(scripts, deployment["bucket"])
        arn, action = self.hook.upsert_pipeline(deployment["pipeline_name"], definition, deployment["role_arn"])
        version = definition_version(definition)
        self.log.info("Pipeline %s %s (version %s, %s)", deployment["pipeline_name"], action, version, arn)
        return {"pipeline_name": deployment["pipeline_name"], "pipeline_arn": arn, "pipeline_version": version,
                "action": action, "bucket": deployment["bucket"],
                "model_package_group": deployment["model_package_group"], "region": region}

    def _upload(self, scripts: Sequence[Any], bucket: str) -> None:
        """Each script once: its key holds its digest, so an object already there is this very file."""
        from ..hooks.provider_clients import S3Hook

        s3 = S3Hook(aws_conn_id=self.aws_conn_id, region_name=self.region_name, verify=self.verify,
                    config=self.hook.config)
        for script in scripts:
            if not s3.check_for_key(script.s3_key, bucket):
                s3.load_file(str(script.local_path), script.s3_key, bucket_name=bucket, replace=True)
                self.log.info("Uploaded %s to s3://%s/%s", script.local_path.name, bucket, script.s3_key)
