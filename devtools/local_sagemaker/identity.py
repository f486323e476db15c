"""Which endpoint answers on a port: `GET /local-console/identity` (JSON: the serving process's pid, its work dir).

A stack that starts an endpoint on a port checks that the process answering there is the one it
started, before it seeds or writes anything pointing at it: another program on a taken port
answers too, and would be taken for it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

IDENTITY_PATH = "/local-console/identity"


class EndpointIdentity:
    """WSGI middleware: answers IDENTITY_PATH; every other request goes on to the endpoint."""

    def __init__(self, app: Callable[..., Iterable[bytes]], work_dir: Path) -> None:
        self.app = app
        self.body = json.dumps({"pid": os.getpid(), "work_dir": str(work_dir)}).encode()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != IDENTITY_PATH:
            return self.app(environ, start_response)
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(self.body)))])
        return [self.body]
