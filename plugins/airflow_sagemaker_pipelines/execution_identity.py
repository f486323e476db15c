"""Who an execution belongs to: the idempotency token and the display name of a DAG run's execution.

Both are derived from dag_id + run_id (+ the attempt number) and nothing else, so a retried or
cleared task (whose XCom Airflow 3 has wiped) asks SageMaker for the same execution and gets
it back instead of starting a second, billed one. A new attempt is made only on purpose: when
the run's execution ended Failed or Stopped and cannot be resumed as it is.
"""

from __future__ import annotations

import hashlib
import re

DISPLAY_NAME_MAX_LENGTH = 82  # SageMaker: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,81}
_DISPLAY_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,81}$")
_DIGEST_CHARS = 10


def client_request_token(dag_id: str, run_id: str, pipeline_name: str = "", attempt: int = 0) -> str:
    """A 64-character token (the API allows 32-128) unique to the run, pipeline and attempt.

    Attempt 0 hashes exactly as before attempts existed, so runs started by an earlier version
    of this package keep finding their execution.
    """
    suffix = f"\0attempt-{attempt}" if attempt else ""
    return hashlib.sha256(f"{dag_id}\0{run_id}\0{pipeline_name}{suffix}".encode()).hexdigest()


def retry_request_token(execution_arn: str, try_number: int) -> str:
    """RetryPipelineExecution's token: one retry per task try (a lost response retried finds it done)."""
    return hashlib.sha256(f"retry\0{execution_arn}\0{try_number}".encode()).hexdigest()


def run_digest(dag_id: str, run_id: str) -> str:
    """The short digest every display name of this run's executions ends with (before any `-aN`)."""
    return hashlib.sha256(f"{dag_id}\0{run_id}".encode()).hexdigest()[:_DIGEST_CHARS]


def execution_display_name(dag_id: str, run_id: str, data_day: str | None = None, attempt: int = 0) -> str:
    """A readable, valid display name: the data day, the run id's letters and digits, a short digest.

    `scheduled__2024-03-02T00:00:00+00:00` training on 2024-03-01 becomes
    `ds-2024-03-01-scheduled-2024-03-02T00-00-00-00-00-<digest>`; a second attempt ends `-a2`.
    The digest keeps two runs whose ids only differ in punctuation apart.
    """
    digest = run_digest(dag_id, run_id)
    tail = f"{digest}-a{attempt + 1}" if attempt else digest
    readable = re.sub(r"[^a-zA-Z0-9]+", "-", f"ds {data_day} {run_id}" if data_day else run_id).strip("-")
    readable = readable[: DISPLAY_NAME_MAX_LENGTH - len(tail) - 1].strip("-")
    name = f"{readable}-{tail}" if readable else tail
    assert _DISPLAY_NAME.match(name), name  # an invariant of the construction above
    return name
