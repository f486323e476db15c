"""Model packages on the endpoint, registered as the pipeline registers them: metrics in S3, provenance."""

from __future__ import annotations

import contextlib
import json
import uuid
from typing import Any

XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"


def register_package(
    endpoint_client: Any,
    group: str,
    bucket: str,
    auc: float,
    *,
    status: str = "Approved",
    data_day: str | None = None,
    pipeline_version: str | None = None,
    data_fingerprint: str | None = None,
    model_data_url: str | None = None,
) -> str:
    """A package in `group` (created if missing) whose ModelQuality report says `auc`; its ARN."""
    sagemaker, s3 = endpoint_client("sagemaker"), endpoint_client("s3")
    key = f"registered/{group}/{uuid.uuid4().hex}/evaluation.json"
    s3.put_object(Bucket=bucket, Key=key,
                  Body=json.dumps({"classification_metrics": {"auc_roc": {"value": auc}}}).encode())
    with contextlib.suppress(sagemaker.exceptions.ClientError):  # the group may be there already
        sagemaker.create_model_package_group(ModelPackageGroupName=group)
    provenance = {"DataDay": data_day, "PipelineVersion": pipeline_version, "DataFingerprint": data_fingerprint}
    request: dict[str, Any] = {
        "ModelPackageGroupName": group,
        "ModelApprovalStatus": status,
        "InferenceSpecification": {"Containers": [{"Image": XGBOOST_IMAGE,
                                                   **({"ModelDataUrl": model_data_url} if model_data_url else {})}], "SupportedContentTypes": ["text/csv"],
                                   "SupportedResponseMIMETypes": ["text/csv"]},
        "ModelMetrics": {"ModelQuality": {"Statistics": {"ContentType": "application/json",
                                                         "S3Uri": f"s3://{bucket}/{key}"}}},
    }
    recorded = {name: value for name, value in provenance.items() if value is not None}
    if recorded:
        request["CustomerMetadataProperties"] = recorded
    return sagemaker.create_model_package(**request)["ModelPackageArn"]
