from __future__ import annotations

import pytest

from .pipelines import unique


@pytest.fixture(scope="module")
def sagemaker(aws):
    return aws("sagemaker")


@pytest.fixture(scope="module")
def s3(aws):
    return aws("s3")


@pytest.fixture(scope="module")
def bucket(s3) -> str:
    name = unique("bucket")
    s3.create_bucket(Bucket=name)
    return name
