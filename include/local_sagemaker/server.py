"""The local SageMaker endpoint: moto's server, with the pipeline engine installed, on one port."""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path
from types import TracebackType

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler
from werkzeug.serving import make_server

from .api_errors import ErrorAnsweringApp, create_app
from .config import endpoint_config, startup_delay_from_environment
from .models import install, installed_backends

STOP_TIMEOUT_SECONDS = 30.0


class _Server(ThreadedMotoServer):
    """moto's threaded server, whose service apps answer errors in AWS's format (api_errors.py)."""

    def _server_entry(self) -> None:
        app = ErrorAnsweringApp(DomainDispatcherApplication(create_app))
        self._server = make_server(self._ip_address, self._port, app, True, request_handler=MotoRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever()


class LocalSageMakerEndpoint:
    """Start with `start()` (returns the URL), stop with `stop()`; or use it as a context manager."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, work_dir: str | Path | None = None,
                 step_startup_delay: float | None = None) -> None:
        """`step_startup_delay`: seconds each step and job stays Starting (None: $LOCAL_SAGEMAKER_STEP_STARTUP_DELAY, else 0)."""
        self.host = host
        self.step_startup_delay = startup_delay_from_environment() if step_startup_delay is None else step_startup_delay
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
        self._server = _Server(ip_address=self.host, port=self.port, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.port = port
        self.url = f"http://{host}:{port}"
        endpoint_config.endpoint_url = self.url
        endpoint_config.work_dir = self.work_dir
        endpoint_config.step_startup_delay = self.step_startup_delay
        return self.url

    def stop(self) -> None:
        """End every running execution's and job's processes, then the server; remove a temporary work dir."""
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
