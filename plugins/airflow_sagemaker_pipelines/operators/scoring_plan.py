"""Choose what scores a data day: the model that was live for it, and the names and places of everything."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import AirflowFailException

from ..hooks.model_registry import ModelRegistryHook, model_package_version
from .data_partition import refuse_a_day_without_data, run_data_day

if TYPE_CHECKING:
    from airflow.sdk import Context

    from ..declarations import PipelineDeclaration
    from ..payloads import ScoringPlan

CHOICES = ("live", "champion")


class ChooseScoringModelOperator(AwsBaseOperator[ModelRegistryHook]):
    """Decide which model scores the run's data day, before anything is created; returns a ScoringPlan
    (multiple outputs).

    The model is, by default, the one **live for that day**: of the group's Approved packages, the
    one that learned from the latest day before it (with the setting `scoring_uses_same_day_model`,
    the day itself included), by the data day each package recorded. So a backfill scores each day
    with the model of its time, whatever was approved since. With `model="champion"`, the group's
    newest Approved package scores the day instead. A day with no such model fails at once with the
    reason; nothing is created. The model's and the job's names derive from the package version
    (and the day), so a retried or cleared run creates nothing twice.

    :param declaration: the pipeline's declaration (its [scoring], registry group and provenance).
    :param settings_variable: the JSON Variable with the pipeline's and the scoring's settings (templated).
    :param model: "live" (the model of the day) or "champion" (the newest Approved) (templated).
    """

    aws_hook_class = ModelRegistryHook
    template_fields: Sequence[str] = aws_template_fields("settings_variable", "model")

    def __init__(self, *, declaration: PipelineDeclaration, settings_variable: str, model: Any = "live",
                 **kwargs: Any) -> None:
        kwargs.setdefault("multiple_outputs", True)
        super().__init__(**kwargs)
        if declaration.scoring is None:
            raise ValueError(f"{declaration.file} declares no [scoring]")
        self.declaration = declaration
        self.settings_variable = settings_variable
        self.model = model

    def execute(self, context: Context) -> ScoringPlan:
        from ..deployment_settings import read_settings_variable, settings_from_mapping
        from ..scoring_settings import scoring_settings

        if self.model not in CHOICES:
            raise AirflowFailException(f"model={self.model!r}: expected live (the model live for the day) or "
                                       "champion (the newest Approved)")
        day = run_data_day(context.get("data_interval_start"), context["dag_run"].run_after)
        refuse_a_day_without_data(day, self.declaration.first_day)
        try:
            values, source = read_settings_variable(self.settings_variable)
            pipeline = settings_from_mapping(values, self.hook.conn_region_name or "us-east-1", source,
                                             self.declaration)
            scoring = scoring_settings(values, source, self.declaration)
        except ValueError as error:
            raise AirflowFailException(str(error)) from None
        package, model_day = self._package(pipeline.model_package_group, day, scoring.same_day_model)
        arn, version = package["ModelPackageArn"], model_package_version(package["ModelPackageArn"])
        spec = self.declaration.scoring
        assert spec is not None
        plan: ScoringPlan = {
            "data_day": day.isoformat(), "bucket": pipeline.bucket,
            "model_package_arn": arn, "model_package_version": version, "model_data_day": model_day,
            "choice": self.model,
            "model_name": f"{scoring.name}-v{version}", "job_name": f"{scoring.name}-{day:%Y%m%d}-v{version}",
            "role_arn": pipeline.role_arn, "instance_type": scoring.instance_type,
            "instance_count": scoring.instance_count,
            "input_uri": pipeline.s3_uri("scoring", "input", f"ds={day.isoformat()}") + "/",
            "staging_uri": pipeline.s3_uri("scoring", "jobs") + "/",
            "scores_uri": f"s3://{pipeline.bucket}/{spec.scores_prefix(day)}",
            "previous_scores_uri": f"s3://{pipeline.bucket}/{spec.scores_prefix(day - timedelta(days=1))}",
            "positive_threshold": spec.positive_threshold, "shift_psi": scoring.shift_psi,
        }
        self.log.info("Scoring %s with %s (version %d, learned from %s): the %s", day, arn, version,
                      model_day or "an unrecorded day", "model live for the day" if self.model == "live"
                      else "group's newest Approved model (the form's choice)")
        return plan

    def _package(self, group: str, day: date, same_day: bool) -> tuple[dict[str, Any], str | None]:
        from ..champion import package_provenance

        provenance = self.declaration.provenance
        approved = self.hook.approved_packages(group)
        if self.model == "champion":
            newest = next(approved, None)
            if newest is None:
                raise AirflowFailException(f"Model package group {group} has no Approved package: no model to score "
                                           f"{day} with; nothing was scored")
            return newest, package_provenance(newest, provenance).get("data_day")
        candidates = []
        for package in approved:
            learned = package_provenance(package, provenance).get("data_day")
            if learned is None:
                self.log.warning("Approved package %s recorded no data day: it cannot be placed in time, skipped",
                                 package["ModelPackageArn"])
                continue
            if learned < day.isoformat() or (same_day and learned == day.isoformat()):
                candidates.append((learned, model_package_version(package["ModelPackageArn"]), package))
        if not candidates:
            when = "on or before" if same_day else "before"
            raise AirflowFailException(
                f"No model was live for {day}: no Approved package in {group} learned from a day {when} it; "
                "nothing was scored (score it with the newest Approved model with the form's model=champion)")
        learned, _, package = max(candidates, key=lambda candidate: candidate[:2])
        return package, learned
