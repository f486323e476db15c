"""moto's URL table for SageMaker Runtime, dispatching to the responses that reach real model servers."""

from .invoke_endpoint import LocalSageMakerRuntimeResponse

url_bases = [r"https?://runtime\.sagemaker\.(.+)\.amazonaws\.com"]

url_paths = {
    "{0}/endpoints/(?P<name>[^/]+)/invocations$": LocalSageMakerRuntimeResponse.dispatch,
    "{0}/endpoints/(?P<name>[^/]+)/async-invocations$": LocalSageMakerRuntimeResponse.dispatch,
    "{0}/endpoints/(?P<name>[^/]+)/invocations-response-stream$": LocalSageMakerRuntimeResponse.dispatch,
}
