"""The champion a candidate is compared with, and a decision against whichever model is champion now.

The champion is the group's newest Approved package (other than the candidate) with readable
metrics. Both the decision task and the approval task ask for it: the approval task asks again
just before it approves (check and set), so that a champion another run approved in between is
compared with, never silently replaced.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .decision_rules import decide
from .evaluation_report import EvaluationReportError, MetricPaths, read_evaluation_report
from .payloads import UNRECORDED, Champion, Decision, DecisionBasis, PackageProvenance

if TYPE_CHECKING:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    from .hooks.model_registry import ModelRegistryHook


def package_provenance(package: Mapping[str, Any], provenance_keys: Mapping[str, str]) -> PackageProvenance:
    """What the package recorded about its training; a value it did not record is None, never guessed."""
    recorded = package.get("CustomerMetadataProperties") or {}
    return {  # type: ignore[return-value]
        field: value if (value := recorded.get(key)) and value != UNRECORDED else None
        for field, key in provenance_keys.items()
    }


def current_champion(
    registry: ModelRegistryHook,
    s3: S3Hook,
    group: str,
    candidate_arn: str | None,
    metric_paths: MetricPaths,
    provenance_keys: Mapping[str, str],
    log: logging.Logger,
    metric: str,
) -> Champion | None:
    for package in registry.approved_packages(group):
        arn = package["ModelPackageArn"]
        if arn == candidate_arn:
            continue
        uri = package.get("ModelMetrics", {}).get("ModelQuality", {}).get("Statistics", {}).get("S3Uri")
        if not uri:
            log.warning("The approved model %s has no ModelQuality metrics: not compared", arn)
            return None
        try:
            metrics = read_evaluation_report(s3, uri, metric_paths, required=metric)
        except EvaluationReportError as error:
            log.warning("The approved model %s has unreadable metrics (%s): not compared", arn, error)
            return None
        provenance = package_provenance(package, provenance_keys)
        log.info("Champion %s: %s %.4f, trained on %s", arn, metric.upper(), metrics[metric],
                 provenance["data_day"] or "an unrecorded day")
        return {"arn": arn, "value": float(metrics[metric]), "provenance": provenance}
    log.info("No approved model in %s yet: nothing to compare with", group)
    return None


def decide_against_current_champion(
    registry: ModelRegistryHook,
    s3: S3Hook,
    basis: DecisionBasis,
    candidate_arn: str | None,
    metric_paths: MetricPaths,
    provenance_keys: Mapping[str, str],
    log: logging.Logger,
) -> Decision:
    champion = current_champion(registry, s3, basis["model_package_group"], candidate_arn, metric_paths,
                                provenance_keys, log, basis["metric"]["name"])
    decision = decide(metric=basis["metric"], value=basis["value"], threshold=basis["threshold"],
                      margin=basis["margin"], candidate=basis["candidate"], champion=champion,
                      gate_failure=basis["gate_failure"], candidate_status=basis.get("candidate_status"),
                      data_drift=basis.get("data_drift") or (), person_reviews=basis.get("person_reviews", False))
    return {**decision, "basis": basis}
