"""A serving container's model server, run as one process per endpoint variant instance in its sandbox.

As SageMaker's containers serve: the model is loaded from /opt/ml/model before anything is
served (a model that cannot load ends the process with its reason on stderr and in
/opt/ml/output/failure, so the instance never passes its health check); then `GET /ping`
answers 200 and `POST /invocations` answers what serving_handlers.py makes of the request.
It binds 127.0.0.1 on a port the kernel picks (never beyond loopback, never a fixed 8080 two
instances would fight over) and prints `Model server listening on 127.0.0.1:<port>`, the line
the endpoint waits for. HTTP/1.1 keep-alive, one thread per connection: the endpoint keeps a
pool of connections to each instance. Runs as a plain script; imports only its neighbours.

Usage: model_server.py <root standing for /opt/ml> xgboost|knn|linear-learner|kmeans|script [SAGEMAKER_PROGRAM]
"""

from __future__ import annotations

import signal
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from container_run import ClientError, run_container
from serving_handlers import FirstPartyAlgorithm, InvocationError, ModelLoadError, ScriptHandlers, XGBoostAlgorithm

READY_PREFIX = "Model server listening on "
MAX_BODY_BYTES = 6 * 1024 * 1024  # the container's MAX_CONTENT_LENGTH; the endpoint refuses larger first


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the endpoint reuses its connections
    disable_nagle_algorithm = True  # headers and body are two writes: without it, 40 ms of delayed ACK each time
    model: Any = None

    def do_GET(self) -> None:
        if self.path == "/ping":
            self._answer(200, b"", "text/plain")
        else:
            self._answer(404, b"not found", "text/plain")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path != "/invocations":
            self._answer(404, b"not found", "text/plain")
            return
        if length > MAX_BODY_BYTES:
            self._answer(413, b"Request Entity Too Large", "text/plain")
            return
        try:
            payload, content_type = self.model.invoke(body, self.headers.get("Content-Type", ""), self.headers.get("Accept", ""))
        except InvocationError as error:
            if error.status >= 500:  # as the containers do: the traceback goes to the log
                print(f"Invocation failed ({error.status}): {error.message}", file=sys.stderr, flush=True)
            self._answer(error.status, error.message.encode(), "text/plain")
            return
        self._answer(200, payload, content_type)

    def _answer(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Requests are not logged one by one: the endpoint's log would grow with every call."""


def serve(root: Path) -> None:
    mode, program = sys.argv[2], (sys.argv[3] if len(sys.argv) > 3 else "")
    started = time.monotonic()
    try:
        if mode == "script":
            _Handler.model = ScriptHandlers(root, program)
        elif mode == "xgboost":
            _Handler.model = XGBoostAlgorithm(root / "model")
        else:  # knn, linear-learner, kmeans
            _Handler.model = FirstPartyAlgorithm(root / "model", mode)
    except ModelLoadError as error:
        raise ClientError(f"The model cannot be loaded: {error}") from None
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # `docker stop`: end at once, connections close
    host, port = server.server_address[:2]
    print(f"Model loaded ({mode}{': ' + program if program else ''}) in {time.monotonic() - started:.2f} s", flush=True)
    print(f"{READY_PREFIX}{host}:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(run_container(serve))
