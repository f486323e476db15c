"""The local SageMaker endpoint: moto's server, with the pipeline engine installed, on one port."""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path
from types import TracebackType

from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from .config import endpoint_config
from .models import install, installed_backends

STOP_TIMEOUT_SECONDS = 30.0


class LocalSageMakerEndpoint:
    """Start with `start()` (returns the URL), stop with `stop()`; or use it as a context manager."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, work_dir: str | Path | None = None) -> None:
        self.host = host
        self.port = port
        self._given_work_dir = Path(work_dir) if work_dir else None
        self.work_dir: Path | None = None
        self._server: ThreadedMotoServer | None = None
        self.url: str | None = None

    def start(self) -> str:
        install()
        if self._given_work_dir:
            self._given_work_dir.mkdir(parents=True, exist_ok=True)
            self.work_dir = self._given_work_dir
        else:
            self.work_dir = Path(tempfile.mkdtemp(prefix="local-sagemaker-"))
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server = ThreadedMotoServer(ip_address=self.host, port=self.port, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.port = port
        self.url = f"http://{host}:{port}"
        endpoint_config.endpoint_url = self.url
        endpoint_config.work_dir = self.work_dir
        return self.url

    def stop(self) -> None:
        """End every running execution's processes, then the server; remove a temporary work dir."""
        for backend in installed_backends():
            backend.stop_all_executions(STOP_TIMEOUT_SECONDS)
        if self._server:
            self._server.stop()
            self._server = None
        if self.work_dir and not self._given_work_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)

    def __enter__(self) -> LocalSageMakerEndpoint:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.stop()
