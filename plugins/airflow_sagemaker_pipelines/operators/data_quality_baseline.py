"""The baseline a run's data is checked against: the data the approved model (the champion) learned from."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields

from ..data_quality import drift_check_baseline
from ..hooks.model_registry import ModelRegistryHook
from ..payloads import DataQualityBaseline

if TYPE_CHECKING:
    from airflow.sdk import Context


class DataQualityBaselineOperator(AwsBaseOperator[ModelRegistryHook]):
    """Find the champion's data-quality baseline: the DriftCheckBaselines.ModelDataQuality of the group's newest
    Approved package, which the pipeline's QualityCheck step checks the run's data against.

    No approved model yet, or one registered without a baseline (before the pipeline checked its data):
    the check is skipped (`skip_check`), and the run's model registers its own data's baseline, which
    the runs after its approval are checked against. Returns a DataQualityBaseline (multiple outputs).

    :param model_package_group: the group the champion is looked up in (templated).
    """

    aws_hook_class = ModelRegistryHook
    template_fields: Sequence[str] = aws_template_fields("model_package_group")

    def __init__(self, *, model_package_group: Any, **kwargs: Any) -> None:
        kwargs.setdefault("multiple_outputs", True)
        super().__init__(**kwargs)
        self.model_package_group = model_package_group

    def execute(self, context: Context) -> DataQualityBaseline:
        champion = next(self.hook.approved_packages(self.model_package_group), None)
        if champion is None:
            self.log.info("No approved model in %s yet: the data-quality check is skipped, and this run's model "
                          "registers its data's baseline", self.model_package_group)
            return {"champion_arn": None, "statistics": "", "constraints": "", "skip_check": True}
        arn = champion["ModelPackageArn"]
        baseline = drift_check_baseline(champion)
        if baseline is None:
            self.log.warning("The approved model %s has no data-quality baseline (DriftCheckBaselines.ModelDataQuality): "
                             "the check is skipped, and this run's model registers its data's baseline", arn)
            return {"champion_arn": arn, "statistics": "", "constraints": "", "skip_check": True}
        statistics, constraints = baseline
        self.log.info("The data is checked against the baseline of the approved model %s: %s, %s", arn, statistics,
                      constraints)
        return {"champion_arn": arn, "statistics": statistics, "constraints": constraints, "skip_check": False}
