"""moto's URL table for S3, each route dispatching to the responses with AWS's request ids and notifications."""

from moto.s3 import urls as moto_urls
from moto.s3.urls import url_bases

from .s3 import LocalS3Response

__all__ = ["url_bases", "url_paths"]

url_paths = {path: getattr(LocalS3Response, handler.__name__) for path, handler in moto_urls.url_paths.items()}
