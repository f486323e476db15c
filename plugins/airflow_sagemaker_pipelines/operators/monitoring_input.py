"""The day's captured requests of the deployed endpoint, written as the analyzer reads a dataset."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import AirflowFailException, AirflowSkipException

from ..captured_data import CapturedDataError, captured_rows, restricted_baseline, rows_as_csv
from ..data_quality import DataQualityFileError, read_json
from ..hooks.provider_clients import S3Hook

if TYPE_CHECKING:
    from airflow.sdk import Context

    from ..payloads import CapturedInput, MonitoringPlan


class PrepareCapturedDataOperator(AwsBaseOperator[S3Hook]):
    """Read every capture file of the day, write its request rows as one CSV under the features' header, and
    the baseline restricted to the features; returns a CapturedInput (multiple outputs).

    Skipped when the plan has nothing to check, or the endpoint captured no request that day (no traffic is
    not a data-quality problem); a capture file that is not SageMaker's, or rows that are not the model's
    features, fail the task naming the file and line. What it writes is the day's and is rewritten whole.

    :param plan: the MonitoringPlan (templated; an XComArg).
    """

    aws_hook_class = S3Hook
    template_fields: Sequence[str] = aws_template_fields("plan")

    def __init__(self, *, plan: Any, **kwargs: Any) -> None:
        kwargs.setdefault("multiple_outputs", True)
        super().__init__(**kwargs)
        self.plan = plan

    def execute(self, context: Context) -> CapturedInput:
        plan: MonitoringPlan = self.plan
        if plan["skip_reason"]:
            raise AirflowSkipException(plan["skip_reason"])
        keys = sorted(key for key in self.hook.list_keys(plan["bucket"], prefix=plan["capture_prefix"]) or []
                      if key.endswith(".jsonl"))
        rows: list[list[str]] = []
        try:
            for key in keys:
                rows += captured_rows(self.hook.read_key(key, plan["bucket"]), f"s3://{plan['bucket']}/{key}",
                                      len(plan["features"]))
            assert plan["baseline_statistics"] and plan["baseline_constraints"]
            statistics, constraints = restricted_baseline(
                read_json(self.hook, plan["baseline_statistics"], "baseline statistics"),
                read_json(self.hook, plan["baseline_constraints"], "baseline constraints"), plan["features"])
        except (CapturedDataError, DataQualityFileError) as error:
            raise AirflowFailException(str(error)) from None
        if not rows:
            raise AirflowSkipException(f"The endpoint {plan['endpoint_name']} captured no request on "
                                       f"{plan['data_day']} (s3://{plan['bucket']}/{plan['capture_prefix']}): "
                                       "nothing to check")
        bucket, folder = self.hook.parse_s3_url(plan["input_uri"])
        self.hook.load_string(rows_as_csv(plan["features"], rows), f"{folder}requests.csv", bucket, replace=True)
        _, baseline = self.hook.parse_s3_url(plan["baseline_uri"])
        for name, document in (("statistics.json", statistics), ("constraints.json", constraints)):
            self.hook.load_string(json.dumps(document), f"{baseline}{name}", bucket, replace=True)
        self.log.info("%d request row(s) from %d capture file(s) written to %s", len(rows), len(keys),
                      plan["input_uri"])
        return {"input_uri": plan["input_uri"], "files": len(keys), "rows": len(rows),
                "baseline_statistics": f"{plan['baseline_uri']}statistics.json",
                "baseline_constraints": f"{plan['baseline_uri']}constraints.json"}
