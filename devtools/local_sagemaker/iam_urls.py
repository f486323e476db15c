"""moto's URL table for IAM, dispatching to the responses with the policy simulator."""

from .iam import LocalIamResponse

url_bases = [r"https?://iam\.(.*\.)?amazonaws\.com"]

url_paths = {
    "{0}/$": LocalIamResponse.dispatch,
}
