"""A loopback TCP proxy in front of the endpoint that can hold back AWS's answer to one API call.

`hold("SageMaker.StartPipelineExecution", containing=digest)` lets the next such request whose bytes
contain `digest` (one run's, when other runs call the same API) through to the endpoint (the
execution is created) and keeps its response from the caller until `release()`. A task is thus
caught, for as long as a test needs, between "AWS accepted the request" and "the task knows the
answer": the moment a crash leaves a retried task to find the same execution by its token.
Everything else passes untouched, byte for byte. While the endpoint is down the proxy closes each
new connection at once, as a refused one, and counts it (`refusals`).
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from collections.abc import Iterator

_REQUEST_LINE = re.compile(rb"^[A-Z]+ \S+ HTTP/1\.[01]\r\n")


class HoldingProxy:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._target: tuple[bytes, bytes] | None = None  # (the X-Amz-Target header, bytes the request contains)
        self._released = threading.Event()
        self.held = threading.Event()  # set once the held call's response has arrived from the endpoint
        self.refusals = threading.Semaphore(0)  # released once per connection the endpoint refused (it is down)
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def hold(self, target: str, containing: str = "") -> None:
        """Hold the response to the next request whose X-Amz-Target is `target` and that contains `containing`."""
        with self._lock:
            self._target = (f"X-Amz-Target: {target}".encode(), containing.encode())
            self._released.clear()
            self.held.clear()

    def release(self) -> None:
        with self._lock:
            self._target = None
        self._released.set()

    def close(self) -> None:
        self._closed = True
        self.release()
        with contextlib.suppress(OSError):
            self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                self.refusals.release()
                continue
            holding = threading.Event()  # this connection carries the held call
            threading.Thread(target=self._requests, args=(client, upstream, holding), daemon=True).start()
            threading.Thread(target=self._responses, args=(upstream, client, holding), daemon=True).start()

    def _requests(self, client: socket.socket, upstream: socket.socket, holding: threading.Event) -> None:
        request = b""  # the request so far: its headers and body may arrive apart
        with contextlib.suppress(OSError):
            while data := client.recv(65536):
                request = data if _REQUEST_LINE.match(data) else request + data
                with self._lock:
                    if self._target is not None and all(part in request for part in self._target):
                        self._target = None  # the next one only
                        holding.set()  # before the request's last bytes reach the endpoint
                upstream.sendall(data)
        _close(client, upstream)

    def _responses(self, upstream: socket.socket, client: socket.socket, holding: threading.Event) -> None:
        with contextlib.suppress(OSError):
            while data := upstream.recv(65536):
                if holding.is_set():
                    self.held.set()
                    self._released.wait()
                    holding.clear()
                client.sendall(data)
        _close(client, upstream)


def _close(*sockets: socket.socket) -> None:
    for sock in sockets:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            sock.close()


@contextlib.contextmanager
def holding_proxy(endpoint_url: str) -> Iterator[HoldingProxy]:
    proxy = HoldingProxy(int(endpoint_url.rsplit(":", 1)[1]))
    try:
        yield proxy
    finally:
        proxy.close()
