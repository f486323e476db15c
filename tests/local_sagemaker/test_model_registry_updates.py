"""UpdateModelPackage changes only what the request names, as AWS does (moto erases the rest)."""

from __future__ import annotations

from tests.support.pipelines import unique
from tests.support.registry import register_package


def test_update_model_package_changes_only_the_fields_it_names(endpoint_client, bucket) -> None:
    sagemaker = endpoint_client("sagemaker")
    arn = register_package(endpoint_client, unique("group"), bucket, 0.8, status="PendingManualApproval",
                           data_day="2024-03-01", pipeline_version="v1", data_fingerprint="f1")
    sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved", ApprovalDescription="good")
    sagemaker.update_model_package(ModelPackageArn=arn, CustomerMetadataProperties={"Reviewer": "ml-team"},
                                   CustomerMetadataPropertiesToRemove=["PipelineVersion"])
    package = sagemaker.describe_model_package(ModelPackageName=arn)
    assert package["ModelApprovalStatus"] == "Approved" and package["ApprovalDescription"] == "good"
    assert package["CustomerMetadataProperties"] == {"DataDay": "2024-03-01", "DataFingerprint": "f1",
                                                     "Reviewer": "ml-team"}
