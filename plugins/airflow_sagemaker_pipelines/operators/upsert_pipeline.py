"""Create or update the SageMaker pipeline from its compiled definition before a run starts it (or find the
pipeline, when it was created elsewhere)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import AirflowFailException

from ..hooks.pipeline_definition import PipelineDefinitionHook

if TYPE_CHECKING:
    from airflow.sdk import Context

    from ..declarations import PipelineDeclaration
    from ..payloads import PipelineRef


class UpsertPipelineOperator(AwsBaseOperator[PipelineDefinitionHook]):
    """Fill the compiled definition in with the deployment's settings, upload its scripts, create or update the pipeline.

    The definition was compiled ahead from the pipeline's SDK source (`make pipelines`, into the
    pipeline folder's compiled.json): nothing here imports the SageMaker SDK. The deployment's
    settings are a JSON Airflow Variable, checked against the pipeline's declaration. Scripts are
    uploaded once per content (their S3 folder is their digest); an unchanged pipeline costs no
    UpdatePipeline call. A pipeline the declaration says exists already (created elsewhere) is only
    described, never changed. A bad setting, a stale compiled file, a missing pipeline or a
    connection without a region fails the task at once: no retry mends them. Returns a PipelineRef
    (multiple outputs).

    :param declaration: the pipeline's declaration (declarations.py).
    :param settings_variable: the JSON Variable's key (templated).
    """

    aws_hook_class = PipelineDefinitionHook
    template_fields: Sequence[str] = aws_template_fields("settings_variable")

    def __init__(self, *, declaration: PipelineDeclaration, settings_variable: str, **kwargs: Any) -> None:
        kwargs.setdefault("multiple_outputs", True)
        super().__init__(**kwargs)
        self.declaration = declaration
        self.settings_variable = settings_variable

    def execute(self, context: Context) -> PipelineRef:
        from ..deployment_settings import read_settings_variable

        try:
            values, source = read_settings_variable(self.settings_variable)
        except ValueError as error:
            raise AirflowFailException(str(error)) from None
        return self.upsert(values, source)

    def upsert(self, values: Mapping[str, Any], source: str) -> PipelineRef:
        """The upsert for these settings (`source` names them in errors): what `execute` does once it has read them."""
        # Imported when a task runs: every DAG file parse imports this module (DAG parse time).
        from ..compiled_pipeline import CompiledPipeline, CompiledPipelineError, definition_version
        from ..deployment_settings import pipeline_deployment

        region = self.hook.conn_region_name
        if not region:
            raise AirflowFailException(f"Airflow connection {self.aws_conn_id!r} has no region_name: set it in the "
                                       "connection's extra")
        try:
            deployment = pipeline_deployment(self.declaration, values, region, source)
        except ValueError as error:  # the same on every try
            raise AirflowFailException(str(error)) from error
        if self.declaration.existing:
            return self._existing(deployment["pipeline_name"], deployment["bucket"],
                                  deployment["model_package_group"], region)
        try:
            compiled = CompiledPipeline.load(self.declaration.compiled_definition)
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

    def _existing(self, name: str, bucket: str, group: str, region: str) -> PipelineRef:
        """A pipeline created elsewhere: described (its version is its definition's digest), never changed."""
        from ..compiled_pipeline import definition_version

        try:
            described = self.hook.describe_pipeline(name)
        except LookupError as error:
            raise AirflowFailException(f"{error}: the declaration {self.declaration.file} says it exists already; "
                                       "create it, or declare its definition to have it upserted") from None
        version = definition_version(described["PipelineDefinition"])
        self.log.info("Pipeline %s exists (version %s, %s): not upserted, as declared", name, version,
                      described["PipelineArn"])
        return {"pipeline_name": name, "pipeline_arn": described["PipelineArn"], "pipeline_version": version,
                "action": "existing", "bucket": bucket, "model_package_group": group, "region": region}

    def _upload(self, scripts: Sequence[Any], bucket: str) -> None:
        """Each script once: its key holds its digest, so an object already there is this very file."""
        from ..hooks.provider_clients import S3Hook

        s3 = S3Hook(aws_conn_id=self.aws_conn_id, region_name=self.region_name, verify=self.verify,
                    config=self.hook.config)
        for script in scripts:
            if not s3.check_for_key(script.s3_key, bucket):
                s3.load_file(str(script.local_path), script.s3_key, bucket_name=bucket, replace=True)
                self.log.info("Uploaded %s to s3://%s/%s", script.local_path.name, bucket, script.s3_key)
