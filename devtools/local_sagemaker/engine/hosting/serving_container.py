"""Which serving contract a model's container follows, decided from its image and environment.

SageMaker runs whatever image a model names; the endpoint can only emulate the images whose
contract it knows: the built-in XGBoost algorithm (sagemaker-xgboost without SAGEMAKER_PROGRAM),
the built-in KNN, Linear Learner and K-Means algorithms (builtin_algorithms.py) and script mode on the scikit-learn and XGBoost framework images (SAGEMAKER_PROGRAM, code in
model.tar.gz `code/` or SAGEMAKER_SUBMIT_DIRECTORY). Anything else fails the deployment naming
the image, as a SageMaker endpoint fails when its image cannot start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..builtin_algorithms import EMULATED_IMAGES, XGBOOST_REPOSITORY, builtin_algorithm
from ..jobs.container import image_repository
from .serving_errors import DeploymentFailure

SCRIPT_MODE_REPOSITORIES = ("sagemaker-scikit-learn", XGBOOST_REPOSITORY)


@dataclass(frozen=True)
class ServingContainer:
    """What a variant's instances run: the model server's mode and what to stage in its sandbox."""

    image: str
    model_data_url: str
    mode: str  # a built-in algorithm (xgboost, knn, linear-learner, kmeans) or "script" (the inference toolkit's handlers)
    environment: dict[str, str] = field(default_factory=dict)
    program: str = ""
    submit_directory: str = ""


def serving_container(container: dict[str, Any], model_name: str, variant_name: str) -> ServingContainer:
    """The contract of `container` (a model's PrimaryContainer, or its package's); DeploymentFailure if none fits."""
    image = str(container.get("Image") or "")
    environment = {str(key): str(value) for key, value in (container.get("Environment") or {}).items()}
    model_data_url = str(container.get("ModelDataUrl") or "")
    if not model_data_url and (container.get("ModelDataSource") or {}).get("S3DataSource"):
        source = container["ModelDataSource"]["S3DataSource"]
        if source.get("CompressionType", "Gzip") != "Gzip":
            raise DeploymentFailure(f"Model '{model_name}' (variant {variant_name}): uncompressed ModelDataSource "
                                    "is not emulated by the local endpoint; give a model.tar.gz")
        model_data_url = str(source.get("S3Uri") or "")
    if not model_data_url:
        raise DeploymentFailure(f"Model '{model_name}' (variant {variant_name}) has no ModelDataUrl: the local endpoint "
                                "serves models from their artifacts (model.tar.gz)")
    repository = image_repository(image)
    program = environment.get("SAGEMAKER_PROGRAM", "")
    if program and repository in SCRIPT_MODE_REPOSITORIES:
        return ServingContainer(image, model_data_url, "script", environment, program,
                                environment.get("SAGEMAKER_SUBMIT_DIRECTORY", ""))
    algorithm = builtin_algorithm(image)
    if algorithm:  # the model server's mode is the algorithm's name: xgboost, knn, linear-learner, kmeans
        return ServingContainer(image, model_data_url, algorithm, environment)
    raise DeploymentFailure(
        f"Image '{image}' of model '{model_name}' (variant {variant_name}) cannot be served by the local endpoint: "
        f"it emulates {EMULATED_IMAGES} and script-mode models "
        f"(SAGEMAKER_PROGRAM) on the {' and '.join(SCRIPT_MODE_REPOSITORIES)} images"
    )
