"""moto's control API (/moto-api) answers reads only, unless the endpoint was started with --enable-reset-api.

`POST /moto-api/reset` wipes every bucket, pipeline and model package, with no credentials
asked; other routes seed moto's random generator, change its configuration, replay recorded
requests or set canned results. Anyone who can reach the port could do it. So by default only
the dashboard and its data answer (`GET /moto-api/`, which the stack and docker-compose wait
on for readiness, `lib.js`, `data.json`); every other /moto-api request gets a 403 JSON error
naming the flag that allows it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

ENABLE_FLAG = "--enable-reset-api"
READABLE_ROUTES = ("/moto-api/", "/moto-api/lib.js", "/moto-api/data.json")
READ_METHODS = ("GET", "HEAD")


class ControlApiGuard:
    def __init__(self, app: Callable[..., Iterable[bytes]], enabled: bool) -> None:
        self.app = app
        self.enabled = enabled

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if self.enabled or not path.startswith("/moto-api"):
            return self.app(environ, start_response)
        if path in READABLE_ROUTES and method in READ_METHODS:
            return self.app(environ, start_response)
        body = json.dumps({
            "__type": "AccessDeniedException",
            "message": (f"{method} {path} is disabled on this endpoint: moto's control API can wipe or change "
                        f"every resource without credentials. Start the endpoint with {ENABLE_FLAG} to allow it"),
        }).encode()
        start_response("403 Forbidden", [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                                          ("x-amzn-ErrorType", "AccessDeniedException")])
        return [body]
