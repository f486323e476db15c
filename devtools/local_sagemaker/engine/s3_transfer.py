"""Copy job inputs from S3 into a sandbox and job outputs back, as SageMaker does."""

from __future__ import annotations

import json
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from .errors import StepFailure

# S3's HTTPS endpoints, which SageMaker takes wherever it takes an S3 URI (ModelDataUrl's pattern is
# `^(https|s3)://([^/]+)/?(.*)$`): virtual-hosted `bucket.s3[.-region].amazonaws.com/key` and path-style
# `s3[.-region].amazonaws.com/bucket/key`, dual-stack and China partition included.
_S3_SERVICE = r"s3(?:[.-](?:dualstack\.)?[a-z0-9-]+)?\.amazonaws\.com(?:\.cn)?"
_PATH_STYLE_HOST = re.compile(rf"^{_S3_SERVICE}$")
_VIRTUAL_HOST = re.compile(rf"^(?P<bucket>[a-z0-9][a-z0-9.-]*?)\.{_S3_SERVICE}$")


def split_s3_uri(uri: str) -> tuple[str, str]:
    """(bucket, key) of `s3://bucket/key` or of an S3 HTTPS URL; StepFailure naming `uri` otherwise."""
    parsed = urlparse(str(uri))
    if parsed.scheme == "s3" and parsed.netloc:
        return parsed.netloc, parsed.path.lstrip("/")
    if parsed.scheme == "https" and parsed.hostname:
        host = parsed.hostname.lower()
        path = unquote(parsed.path).lstrip("/")  # an HTTPS URL's key is percent-encoded
        if _PATH_STYLE_HOST.match(host) and path.split("/", 1)[0]:
            bucket, _, key = path.partition("/")
            return bucket, key
        virtual = _VIRTUAL_HOST.match(host)
        if virtual:
            return virtual.group("bucket"), path
    raise StepFailure(f"'{uri}' is not an S3 URI (s3://bucket/key, https://bucket.s3.region.amazonaws.com/key "
                      "or https://s3.region.amazonaws.com/bucket/key)")


def _list_keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    keys: list[str] = []
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys.extend(item["Key"] for item in page.get("Contents", []))
    except s3.exceptions.NoSuchBucket:
        return []
    return keys


def _relative_path(key: str, prefix: str) -> str:
    if key == prefix:
        return os.path.basename(key)
    if prefix.endswith("/") or key[len(prefix)] == "/":
        return key[len(prefix) :].lstrip("/")
    # A partial prefix ("data/day" matching "data/day1/x.csv") keeps the name it cut into.
    return key[prefix.rfind("/") + 1 :]


def download_prefix(s3: Any, uri: str, destination: Path) -> int:
    """Copy every object under the S3 prefix into `destination`; fail naming the URI if none."""
    bucket, prefix = split_s3_uri(uri)
    keys = [key for key in _list_keys(s3, bucket, prefix) if not key.endswith("/")]
    if not keys:
        raise StepFailure(
            f'ClientError: No S3 objects found under S3 URL "{uri}" given in input data source. '
            "Please ensure that the bucket exists and that objects exist under that S3 prefix."
        )
    destination.mkdir(parents=True, exist_ok=True)

    def fetch(key: str) -> None:
        target = destination / _relative_path(key, prefix)
        target.parent.mkdir(parents=True, exist_ok=True)
        s3.download_file(bucket, key, str(target))

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(fetch, keys))
    return len(keys)


def upload_directory(s3: Any, source: Path, uri: str) -> int:
    """Upload every file under `source` to the S3 prefix `uri`, keeping relative paths."""
    bucket, prefix = split_s3_uri(uri)
    files = [path for path in source.rglob("*") if path.is_file()] if source.exists() else []

    def put(path: Path) -> None:
        key = "/".join(part for part in (prefix.rstrip("/"), path.relative_to(source).as_posix()) if part)
        s3.upload_file(str(path), bucket, key)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(put, files))
    return len(files)


def upload_file(s3: Any, source: Path, uri: str) -> None:
    bucket, key = split_s3_uri(uri)
    s3.upload_file(str(source), bucket, key)


def read_json(s3: Any, uri: str) -> Any:
    bucket, key = split_s3_uri(uri)
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except Exception as error:
        raise StepFailure(f"Cannot read {uri}: {error}") from None
    try:
        return json.loads(body)
    except ValueError as error:
        raise StepFailure(f"{uri} is not valid JSON: {error}") from None


def join_uri(*parts: str) -> str:
    return "/".join(part.strip("/") if index else part.rstrip("/") for index, part in enumerate(parts))
