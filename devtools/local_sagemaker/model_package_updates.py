"""UpdateModelPackage as AWS does it: only the fields a request names change.

moto 5.2 sets every field the request leaves out to None: an UpdateModelPackage that only
approves a package erases its CustomerMetadataProperties (the day, data and pipeline version
the DAG records there) and its approval description. AWS leaves them as they are, adds the
given metadata properties to the recorded ones and removes the ones listed to remove.
"""

from __future__ import annotations

from typing import Any

from moto.sagemaker.exceptions import ValidationError


class ModelRegistryUpdates:
    """Mixed into the endpoint's SageMaker backend, before moto's class."""

    model_packages: dict[str, Any]
    model_package_name_mapping: dict[str, str]

    def update_model_package(
        self,
        model_package_arn: str,
        model_approval_status: str | None,
        approval_description: str | None,
        customer_metadata_properties: dict[str, str] | None,
        customer_metadata_properties_to_remove: list[str],
        additional_inference_specifications_to_add: list[Any] | None,
    ) -> str:
        name = self.model_package_name_mapping.get(model_package_arn, model_package_arn)
        package = self.model_packages.get(name)
        if package is None:
            raise ValidationError(f"Model package {model_package_arn} not found")
        if model_approval_status is not None:
            package.set_model_approval_status(model_approval_status)
        if approval_description is not None:
            package.approval_description = approval_description
        if customer_metadata_properties:
            package.customer_metadata_properties = {**(package.customer_metadata_properties or {}),
                                                    **customer_metadata_properties}
        if customer_metadata_properties_to_remove and package.customer_metadata_properties:
            package.remove_customer_metadata_property(customer_metadata_properties_to_remove)
        package.add_additional_inference_specifications(additional_inference_specifications_to_add)
        package.modifications_done()
        return package.arn
