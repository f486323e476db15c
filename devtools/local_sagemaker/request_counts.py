"""How many requests of each action the endpoint answered: `GET /local-console/requests` (JSON).

For measuring what clients cost (the benchmark of one triggerer waiting on hundreds of
executions counts its DescribePipelineExecution and ListPipelineExecutionSteps calls here),
and for seeing what a DAG run asked of the API. JSON-protocol calls are named by their
X-Amz-Target (`SageMaker.DescribePipelineExecution`), query-protocol calls by their Action,
anything else by method and first path segment. Counting costs a dictionary increment.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

COUNTS_PATH = "/local-console/requests"


class RequestCounts:
    """WSGI middleware: counts each request by action, and answers the counts at COUNTS_PATH."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == COUNTS_PATH:
            with self._lock:
                body = json.dumps(dict(self._counts), sort_keys=True).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        with self._lock:
            self._counts[_action(environ)] += 1
        return self.app(environ, start_response)


def _action(environ: dict[str, Any]) -> str:
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return target
    action = parse_qs(environ.get("QUERY_STRING", "")).get("Action")
    if action:
        return action[0]
    segment = environ.get("PATH_INFO", "/").strip("/").split("/", 1)[0]
    return f"{environ.get('REQUEST_METHOD', 'GET')} /{segment}"
