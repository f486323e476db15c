"""One botocore data loader for the sessions the provider's hooks create in a process: each service model parsed once.

botocore parses a service's model (SageMaker's is megabytes of JSON) once per session, and the
provider creates a session for every hook: a task that makes three clients parses it three times,
and `airflow dags test`, which runs every task in one process, once per task (py-spy: a third of
the CPU of the end-to-end tests' in-process DAG runs). The provider shares one loader across its
async sessions for the same reason (`base_aws._loader`); `SharedLoaderSessionFactory`, named as the
provider's `[aws] session_factory` by the local tools, does it for the sync sessions. A loader only
reads botocore's data files, so what a client gets is the same.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import boto3
import botocore.loaders
import botocore.session
from airflow.providers.amazon.aws.hooks.base_aws import BaseSessionFactory

_loaders: dict[str | None, botocore.loaders.Loader] = {}
_loaders_lock = threading.Lock()


class _SearchPaths(list):
    """A loader's search paths, where each boto3 session appends its own data folder: kept once."""

    def append(self, path: str) -> None:
        if path not in self:
            super().append(path)


def with_shared_loader(session: botocore.session.Session) -> botocore.session.Session:
    """`session`, loading its service models through the process's loader for its data path."""
    data_path = session.get_config_variable("data_path")
    with _loaders_lock:
        loader = _loaders.get(data_path)
        if loader is None:
            extra = [os.path.expanduser(os.path.expandvars(path)) for path in (data_path or "").split(os.pathsep) if path]
            loader = _loaders[data_path] = botocore.loaders.Loader(extra_search_paths=_SearchPaths(extra))
    session.register_component("data_loader", loader)
    return session


class SharedLoaderSessionFactory(BaseSessionFactory):
    """The provider's session factory, its sessions on the shared loader."""

    def _create_basic_session(self, session_kwargs: dict[str, Any]) -> boto3.session.Session:
        return boto3.session.Session(botocore_session=with_shared_loader(botocore.session.get_session()),
                                     **session_kwargs)
