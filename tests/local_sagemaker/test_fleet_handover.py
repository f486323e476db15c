"""An InService endpoint whose model servers start again (a restart) makes invocations wait, never refuses them.

The restart's servers start on a thread of their own: an invocation that came before they were
launched, or between their launch and their swap into service, was refused "no variant serving"
(a CI failure of test_endpoint_serving_restart on a loaded machine).
"""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from devtools.local_sagemaker.engine.hosting import fleet as fleet_module
from devtools.local_sagemaker.engine.hosting.fleet import Fleet, Variant
from devtools.local_sagemaker.engine.hosting.serving_errors import DeploymentFailure, InvocationRefused, ModelFailure


def model_error(status: int, message: str) -> ModelFailure:
    return ModelFailure("no answer in time", status, message, "arn:aws:logs:stream")


class Answering:
    """A ready instance that answers at once."""

    ready, in_flight = True, 0

    def invoke(self, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, str, bytes]:
        return 200, "text/csv", b"0.5"

    def stop(self) -> None: ...


@pytest.fixture
def short_invocations(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fleet_module, "INVOCATION_TIMEOUT_SECONDS", 0.5)


def test_a_restarting_endpoint_without_servers_yet_makes_the_invocation_wait(tmp_path: Path, short_invocations) -> None:
    restarting = Fleet("survivor", context=None, folder=tmp_path, restarting=True)  # type: ignore[arg-type]
    with pytest.raises(ModelFailure):  # waited out its deadline for the servers, as a slow model would be
        restarting.invoke(b"1,2", {}, None, model_error)
    restarting.stop()


def test_an_endpoint_that_serves_nothing_and_starts_nothing_refuses_at_once(tmp_path: Path, short_invocations) -> None:
    empty = Fleet("survivor", context=None, folder=tmp_path)  # type: ignore[arg-type]
    with pytest.raises(InvocationRefused, match="no variant serving"):
        empty.invoke(b"1,2", {}, None, model_error)
    empty.stop()


def test_an_invocation_waiting_on_a_restart_is_answered_once_the_servers_serve(tmp_path: Path) -> None:
    restarting = Fleet("survivor", context=None, folder=tmp_path, restarting=True)  # type: ignore[arg-type]
    answers: list[object] = []
    invocation = threading.Thread(target=lambda: answers.append(restarting.invoke(b"1,2", {}, None, model_error)))
    invocation.start()
    restarting.serve([Variant(SimpleNamespace(name="AllTraffic", weight=1.0), [Answering()])])  # type: ignore[arg-type,list-item]
    invocation.join(30)
    assert [(answer.variant, answer.body) for answer in answers] == [("AllTraffic", b"0.5")]  # type: ignore[attr-defined]
    restarting.stop()


class NotStarting:
    """An instance whose model server exits before its first health check."""

    def __init__(self, *args: object) -> None: ...

    def start(self) -> None: ...

    def wait_started(self, timeout: float) -> None:
        raise DeploymentFailure("The model server exited with code 1. ModelLoadError: bad artifact")

    def stop(self) -> None: ...


def test_a_restart_whose_servers_do_not_start_refuses_invocations_saying_why(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, short_invocations) -> None:
    monkeypatch.setattr(fleet_module, "ModelArchive", lambda *args: None)
    monkeypatch.setattr(fleet_module, "ServerInstance", NotStarting)
    context = SimpleNamespace(clients=SimpleNamespace(s3=None))
    restarting = Fleet("survivor", context=context, folder=tmp_path, restarting=True)  # type: ignore[arg-type]
    spec = SimpleNamespace(name="AllTraffic", weight=1.0, instance_count=1, container=None)
    with pytest.raises(DeploymentFailure):
        restarting.launch([spec])  # type: ignore[list-item]

    with pytest.raises(InvocationRefused, match=r"no variant serving: its model servers did not start .*ModelLoadError"):
        restarting.invoke(b"1,2", {}, None, model_error)
    restarting.stop()
