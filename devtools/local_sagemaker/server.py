"""The local SageMaker endpoint: moto's server, with the pipeline engine installed, on one port.

Start-up, in this order: refuse a non-loopback address unless allowed (binding.py); claim the
work dir (work_dir.py: one endpoint per work dir, leftovers of a dead predecessor ended);
bind the port; restore the saved state (persistence/), before the first request is served;
start the watcher that ends the jobs if this process dies (orphans.py); serve; start the model
servers of restored endpoints. A stop ends the other way round: no new requests, the last
snapshot, the jobs and model servers, the work dir's lock.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler
from werkzeug.serving import BaseWSGIServer, make_server

from .api_errors import ErrorAnsweringApp, create_app
from .binding import check_bind_address
from .config import endpoint_config, startup_delay_from_environment
from .control_api import ControlApiGuard
from .engine import preloaded_python
from .execution_pages import ExecutionPages
from .identity import EndpointIdentity
from .models import install, installed_backends
from .orphans import start_watcher
from .persistence.changes import state_changes
from .persistence.save_before_answer import PersistingApp
from .persistence.store import StateStore
from .request_counts import RequestCounts
from .work_dir import WorkDirLease

STOP_TIMEOUT_SECONDS = 30.0
STATE_FOLDER = "state"


class LocalSageMakerEndpoint:
    """Start with `start()` (returns the URL), stop with `stop()`; or use it as a context manager."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, work_dir: str | Path | None = None,
                 step_startup_delay: float | None = None, *, persist: bool = False, fresh: bool = False,
                 allow_remote: bool = False, enable_reset_api: bool = False) -> None:
        """`step_startup_delay`: seconds each step and job stays Starting (None: $LOCAL_SAGEMAKER_STEP_STARTUP_DELAY, else 0).
        `persist`: keep the state in `work_dir` across restarts (`fresh`: set a saved one aside first).
        `allow_remote`: listen on a non-loopback `host`. `enable_reset_api`: serve moto's /moto-api/reset & co."""
        if (persist or fresh) and not work_dir:
            raise ValueError("a saved state lives in the work dir: give --work-dir to keep the state (or to start it fresh)")
        self.host = host
        self.step_startup_delay = startup_delay_from_environment() if step_startup_delay is None else step_startup_delay
        self.port = port
        self._given_work_dir = Path(work_dir).resolve() if work_dir else None
        self.persist = persist
        self.fresh = fresh
        self.allow_remote = allow_remote
        self.enable_reset_api = enable_reset_api
        self.work_dir: Path | None = None
        self.url: str | None = None
        self.state: StateStore | None = None
        self.restored_services: list[str] = []
        self.discarded_state: Path | None = None
        self._lease: WorkDirLease | None = None
        self._http: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._watcher: Any = None

    def start(self) -> str:
        check_bind_address(self.host, self.allow_remote)
        install()
        self._lease = WorkDirLease.claim(self._given_work_dir) if self._given_work_dir else WorkDirLease.temporary()
        self.work_dir = self._lease.directory
        try:
            return self._start_serving()
        except BaseException:
            self._close_http()
            self._lease.release()
            raise

    def _start_serving(self) -> str:
        assert self.work_dir is not None
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        if self.persist:
            self.state = self._open_state(self.work_dir / STATE_FOLDER)
        app: Any = ErrorAnsweringApp(DomainDispatcherApplication(create_app))
        if self.state:
            app = PersistingApp(app, self.state)
        app = RequestCounts(ControlApiGuard(ExecutionPages(app), enabled=self.enable_reset_api))
        app = EndpointIdentity(app, self.work_dir)
        self._http = make_server(self.host, self.port, app, threaded=True, request_handler=MotoRequestHandler)
        host, port = self._http.server_address[:2]
        self.port = port
        self.url = f"http://{'[' + str(host) + ']' if ':' in str(host) else host}:{port}"
        endpoint_config.endpoint_url = self.url
        endpoint_config.work_dir = self.work_dir
        endpoint_config.step_startup_delay = self.step_startup_delay
        if self.state:
            # Before the first request: a restored execution is there when a client asks for it.
            self.restored_services = self.state.restore()
            state_changes.attach(self.state)
            self.state.start()
            self.state.changed({"sagemaker"})  # what the restore ended (interrupted executions) is saved
        self._watcher = start_watcher(self.work_dir, remove_work_dir=not self._given_work_dir)
        self._thread = threading.Thread(target=self._http.serve_forever, name="http", daemon=True)
        self._thread.start()
        if self.state:
            for backend in installed_backends():  # restored endpoints serve again (their model servers start)
                backend.resume_endpoints()
        return self.url

    def _open_state(self, folder: Path) -> StateStore:
        if self.fresh and folder.exists():
            self.discarded_state = folder.with_name(f"{STATE_FOLDER}-discarded-{_timestamp()}")
            folder.rename(self.discarded_state)
        return StateStore(folder)

    def stop(self) -> None:
        """No new requests; the last snapshot (running executions are saved as running, so a restart
        fails them); then every execution's and job's processes; the work dir's lock (a temporary one removed)."""
        self._close_http()
        if self.state:
            self.state.close()
            state_changes.attach(None)
        for backend in installed_backends():
            backend.stop_all_executions(STOP_TIMEOUT_SECONDS)
        preloaded_python.stop_all()
        if self._watcher:
            self._watcher.stdin.close()  # the watcher ends what is left (nothing, now) and exits
            self._watcher.wait(STOP_TIMEOUT_SECONDS)
            self._watcher = None
        if self._lease:
            self._lease.release()
            self._lease = None

    def _close_http(self) -> None:
        if self._http is None:
            return
        if self._thread:
            self._http.shutdown()
            self._thread.join()
            self._thread = None
        self._http.server_close()
        self._http = None

    def __enter__(self) -> LocalSageMakerEndpoint:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.stop()


def _timestamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
