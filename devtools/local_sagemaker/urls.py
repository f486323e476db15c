"""moto's URL table for SageMaker, dispatching to the extended responses."""

from .responses import LocalSageMakerResponse

url_bases = [
    r"https?://api\.sagemaker\.(.+)\.amazonaws.com",
]

url_paths = {
    "{0}/$": LocalSageMakerResponse.dispatch,
}
