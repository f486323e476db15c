"""The engine's clients of its own endpoint, shared by its threads (engine/aws.py)."""

from __future__ import annotations

import contextlib
import threading

import botocore.errorfactory
import pytest

from devtools.local_sagemaker.engine.aws import EndpointClients
from tests.support.pipelines import unique


def test_threads_meeting_a_new_client_at_once_catch_the_errors_it_raises(endpoint: str, monkeypatch) -> None:
    # botocore builds a client's exception classes on first use, unlocked. Two threads that both
    # find them missing meet here, so that neither is done before the other started.
    both_building = threading.Barrier(2)
    build = botocore.errorfactory.ClientExceptionsFactory._create_client_exceptions

    def building_together(factory, service_model):  # type: ignore[no-untyped-def]
        with contextlib.suppress(threading.BrokenBarrierError):  # built once, by one thread: nobody to meet
            both_building.wait(timeout=2)
        return build(factory, service_model)

    monkeypatch.setattr(botocore.errorfactory.ClientExceptionsFactory, "_create_client_exceptions", building_together)
    clients = EndpointClients(endpoint, "us-east-1")
    caught: list[type] = []
    threads = [threading.Thread(target=lambda: caught.append(clients.logs.exceptions.ResourceAlreadyExistsException))
               for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(set(caught)) == 1, "two threads got different exception classes from one client"
    group = f"/aws/sagemaker/Endpoints/{unique('clients')}"
    clients.logs.create_log_group(logGroupName=group)
    with pytest.raises(caught[0]):  # what every thread's `except` names is what the client raises
        clients.logs.create_log_group(logGroupName=group)
