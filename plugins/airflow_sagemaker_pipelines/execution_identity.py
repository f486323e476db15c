"""Who an execution belongs to: the idempotency token and the display name of a DAG run's execution.

Both are derived from dag_id + run_id and nothing else, so a retried or cleared task (whose
XCom Airflow 3 has wiped) asks SageMaker for the same execution and gets it back instead of
starting a second, billed one.
"""

from __future__ import annotations

import hashlib
import re

DISPLAY_NAME_MAX_LENGTH = 82  # SageMaker: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,81}
_DISPLAY_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,81}$")
_DIGEST_CHARS = 10


def client_request_token(dag_id: str, run_id: str, pipeline_name: str = "") -> str:
    """A 64-character token (the API allows 32-128) unique to the run and pipeline."""
    return hashlib.sha256(f"{dag_id}\0{run_id}\0{pipeline_name}".encode()).hexdigest()


def execution_display_name(dag_id: str, run_id: str) -> str:
    """A readable, valid display name: the run id's letters and digits plus a short digest.

    `scheduled__2024-03-01T00:00:00+00:00` becomes `scheduled-2024-03-01T00-00-00-00-00-<digest>`;
    the digest keeps two runs whose ids only differ in punctuation apart.
    """
    digest = hashlib.sha256(f"{dag_id}\0{run_id}".encode()).hexdigest()[:_DIGEST_CHARS]
    readable = re.sub(r"[^a-zA-Z0-9]+", "-", run_id).strip("-")
    readable = readable[: DISPLAY_NAME_MAX_LENGTH - _DIGEST_CHARS - 1].strip("-")
    name = f"{readable}-{digest}" if readable else digest
    assert _DISPLAY_NAME.match(name), name  # an invariant of the construction above
    return name
