"""Publish a day's scores under scores/ds=<day>/, each object naming the model, with a summary of them.

The transform job writes `<file>.out` objects (`<id>,<score>` lines) into its own folder; only once
it completed are they copied to the day's partition, with the model package's version and ARN in
each object's metadata, and `_summary.json` last. What the partition held before and this run did
not write (an earlier model's scores of a file since removed) is deleted after, so the partition
always holds one model's scores of the whole day.
"""

from __future__ import annotations

import codecs
import csv
import json
import urllib.parse
from array import array
from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.links.sagemaker import SageMakerTransformJobLink
from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import AirflowFailException

from ..hooks.provider_clients import S3Hook
from ..score_distribution import population_stability_index, summarise

if TYPE_CHECKING:
    from airflow.sdk import Context

    from ..payloads import ScoreSummary, ScoringPlan, ScoringResult

SUMMARY_FILE = "_summary.json"
OUTPUT_SUFFIX = ".out"  # what a transform job appends to each input object's name


class PublishScoresOperator(AwsBaseOperator[S3Hook]):
    """Copy the completed job's scores to the day's partition and compare them with the day before's;
    returns a ScoringResult (multiple outputs). A large shift is logged as a warning, never a failure.

    :param plan: the ScoringPlan (templated; an XComArg).
    :param transform: the transform task's result, the provider's {"Model", "Transform"} (templated).
    """

    aws_hook_class = S3Hook
    template_fields: Sequence[str] = aws_template_fields("plan", "transform")

    def __init__(self, *, plan: Any, transform: Any, **kwargs: Any) -> None:
        kwargs.setdefault("multiple_outputs", True)
        super().__init__(**kwargs)
        self.plan = plan
        self.transform = transform

    def execute(self, context: Context) -> ScoringResult:
        plan: ScoringPlan = self.plan
        job = self.transform["Transform"]
        bucket, job_prefix = self.hook.parse_s3_url(job["TransformOutput"]["S3OutputPath"])
        _, scores_prefix = self.hook.parse_s3_url(plan["scores_uri"])
        outputs = sorted(key for key in self.hook.list_keys(bucket, job_prefix) if key.endswith(OUTPUT_SUFFIX))
        if not outputs:
            raise AirflowFailException(f"Transform job {job['TransformJobName']} wrote nothing under "
                                       f"s3://{bucket}/{job_prefix}")
        previous = self._previous_summary(plan)
        scores = array("d")
        for key in outputs:
            self._read_scores(bucket, key, scores)
        summary = summarise(scores, plan["positive_threshold"], previous)
        metadata = {"model-package-version": str(plan["model_package_version"]),
                    "model-package-arn": plan["model_package_arn"], "transform-job": job["TransformJobName"],
                    "data-day": plan["data_day"]}
        published = []
        for key in outputs:
            target = scores_prefix + key[len(job_prefix):].lstrip("/").removesuffix(OUTPUT_SUFFIX)
            self.hook.copy_object(key, target, bucket, bucket, meta_data_directive="REPLACE", Metadata=metadata,
                                  ContentType="text/csv")
            published.append(target)
        summary_key = scores_prefix + SUMMARY_FILE
        self.hook.get_conn().put_object(Bucket=bucket, Key=summary_key, Body=json.dumps(summary).encode(),
                                        ContentType="application/json", Metadata=metadata)
        published.append(summary_key)
        stale = sorted(set(self.hook.list_keys(bucket, scores_prefix)) - set(published))
        if stale:
            self.hook.delete_objects(bucket, stale)
            self.log.info("Removed %d object(s) of an earlier scoring of this day: %s", len(stale), stale)
        psi = population_stability_index(summary, previous) if previous else None
        shifted = psi is not None and psi > plan["shift_psi"]
        result: ScoringResult = {
            "data_day": plan["data_day"], "scores_uri": plan["scores_uri"], "objects": len(outputs),
            "job_name": job["TransformJobName"], "model_package_arn": plan["model_package_arn"],
            "model_package_version": plan["model_package_version"],
            "seconds": job.get("DurationSeconds") or 0.0, "summary": summary,
            "console_url": SageMakerTransformJobLink.format_str.format(
                aws_domain=SageMakerTransformJobLink.get_aws_domain(self.hook.conn_partition),
                region_name=self.hook.conn_region_name, job_name=urllib.parse.quote(job["TransformJobName"], safe="")),
            "previous_day": (date.fromisoformat(plan["data_day"]) - timedelta(days=1)).isoformat() if previous
            else None,
            "psi": psi, "shifted": shifted,
        }
        self.log.info("%d score(s) of %s published to %s (model version %d)", summary["rows"], plan["data_day"],
                      plan["scores_uri"], plan["model_package_version"])
        if shifted:
            self.log.warning("The scores shifted from the day before's: PSI %.3f > %g (a warning, not a failure)",
                             psi, plan["shift_psi"])
        return result

    def _read_scores(self, bucket: str, key: str, into: array) -> None:
        body = self.hook.get_key(key, bucket).get()["Body"]
        try:
            for line, row in enumerate(csv.reader(codecs.getreader("utf-8")(body)), start=1):
                if not row:
                    continue
                try:
                    into.append(float(row[-1]))
                except ValueError:
                    raise AirflowFailException(f"s3://{bucket}/{key} line {line}: {row[-1]!r} is not a score: the "
                                               "model answered something else than one number per row") from None
        finally:
            body.close()

    def _previous_summary(self, plan: ScoringPlan) -> ScoreSummary | None:
        bucket, prefix = self.hook.parse_s3_url(plan["previous_scores_uri"])
        key = prefix + SUMMARY_FILE
        if not self.hook.check_for_key(key, bucket):
            self.log.info("No scores for the day before (s3://%s/%s): nothing to compare with", bucket, prefix)
            return None
        try:
            return json.loads(self.hook.read_key(key, bucket))
        except ValueError:
            self.log.warning("s3://%s/%s is not JSON: not compared", bucket, key)
            return None
