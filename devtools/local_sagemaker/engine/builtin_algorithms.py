"""Which built-in algorithm an image URI names: the images whose training and serving containers the endpoint emulates.

XGBoost is recognised by its repository (sagemaker-xgboost, whatever the account), as it always was.
KNN, Linear Learner and K-Means are SageMaker's first-party algorithms: `<account>.dkr.ecr.<region>.<domain>/<name>:1`,
from the algorithms' registry account of that region (the SDK's image_uris.retrieve writes the same,
from sagemaker/core/image_uri_config/{knn,linear-learner,kmeans}.json, which share one table). An image of
the same name in another account is someone's own container, which the endpoint cannot emulate.
"""

from __future__ import annotations

import re

from .jobs.container import image_repository

XGBOOST = "xgboost"
KNN = "knn"
LINEAR_LEARNER = "linear-learner"
KMEANS = "kmeans"
FIRST_PARTY_ALGORITHMS = (KNN, LINEAR_LEARNER, KMEANS)
XGBOOST_REPOSITORY = "sagemaker-xgboost"
EMULATED_IMAGES = f"the built-in XGBoost ({XGBOOST_REPOSITORY}), KNN (knn), Linear Learner (linear-learner) and K-Means (kmeans) algorithms"

# The first-party algorithms' registry account per region (image_uri_config/knn.json, version 1).
ALGORITHM_REGISTRIES = {
    "af-south-1": "455444449433", "ap-east-1": "286214385809", "ap-northeast-1": "351501993468",
    "ap-northeast-2": "835164637446", "ap-northeast-3": "867004704886", "ap-south-1": "991648021394",
    "ap-south-2": "628508329040", "ap-southeast-1": "475088953585", "ap-southeast-2": "712309505854",
    "ap-southeast-3": "951798379941", "ap-southeast-4": "106583098589", "ca-central-1": "469771592824",
    "ca-west-1": "190319476487", "cn-north-1": "390948362332", "cn-northwest-1": "387376663083",
    "eu-central-1": "664544806723", "eu-central-2": "680994064768", "eu-north-1": "669576153137",
    "eu-south-1": "257386234256", "eu-south-2": "104374241257", "eu-west-1": "438346466558",
    "eu-west-2": "644912444149", "eu-west-3": "749696950732", "il-central-1": "898809789911",
    "me-central-1": "272398656194", "me-south-1": "249704162688", "sa-east-1": "855470959533",
    "us-east-1": "382416733822", "us-east-2": "404615174143", "us-gov-east-1": "237065988967",
    "us-gov-west-1": "226302683700", "us-iso-east-1": "490574956308", "us-isob-east-1": "765400339828",
    "us-isof-east-1": "108575199400", "us-isof-south-1": "124985052026", "us-west-1": "632365934929",
    "us-west-2": "174872318107",
}
# The domain is the partition's: amazonaws.com, amazonaws.com.cn, c2s.ic.gov (ISO regions)...
_ECR_HOST = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.[a-z0-9.-]+$")


def builtin_algorithm(image: str) -> str | None:
    """`xgboost`, `knn`, `linear-learner` or `kmeans` for the image of a built-in algorithm; None for any other image."""
    repository = image_repository(image)
    if repository == XGBOOST_REPOSITORY:
        return XGBOOST
    if repository not in FIRST_PARTY_ALGORITHMS:
        return None
    host = str(image).split("/", 1)[0].lower()
    registry = _ECR_HOST.match(host)
    if registry and ALGORITHM_REGISTRIES.get(registry.group("region")) == registry.group("account"):
        return repository
    return None
