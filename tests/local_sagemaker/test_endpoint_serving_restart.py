"""Model servers across the endpoint's own life: they die with it (even a SIGKILLed one), and a restart on
the same work dir serves the endpoints that were InService again, with new processes.

Each test runs `python -m devtools.local_sagemaker` as a user does and looks at /proc.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest

from .endpoint_process import process_alive, wait_until
from .serving import csv_body, deploy, in_process, predictions, rows, server_pids, train_booster, xgboost_artifact

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc, PR_SET_PDEATHSIG: Linux only")

BUCKET = "serving-restart"
DEATH_TIMEOUT_SECONDS = 30


def _serve(endpoint: Any, booster: Any, name: str) -> list[int]:
    s3, sagemaker = endpoint.client("s3"), endpoint.client("sagemaker")
    s3.create_bucket(Bucket=BUCKET)
    deploy(sagemaker, xgboost_artifact(s3, BUCKET, booster), endpoint=name, instance_count=2)
    pids = server_pids(name)
    assert len(pids) == 2
    return pids


def test_a_restart_serves_the_endpoints_that_were_in_service(tmp_path, endpoint_processes) -> None:
    booster, body = train_booster(7), csv_body(rows(10, 13))
    first = endpoint_processes("--work-dir", str(tmp_path / "work"))
    before = _serve(first, booster, "survivor")
    assert first.stop() == 0
    assert not any(process_alive(pid) for pid in before), "a clean stop left model servers running"

    second = endpoint_processes("--work-dir", str(tmp_path / "work"))
    sagemaker = second.client("sagemaker")
    described = sagemaker.describe_endpoint(EndpointName="survivor")
    assert described["EndpointStatus"] == "InService"
    # The first invocation waits for the restarted instances rather than failing.
    assert predictions(second.client("sagemaker-runtime"), "survivor", body) == in_process(booster, body)
    after = wait_until(lambda: len(server_pids("survivor")) == 2 and server_pids("survivor"), 60, "two servers again")
    assert set(after).isdisjoint(before)
    streams = second.client("logs").describe_log_streams(logGroupName="/aws/sagemaker/Endpoints/survivor")["logStreams"]
    assert len(streams) == 4, "each restarted instance is a new instance with its own log stream"
    sagemaker.delete_endpoint(EndpointName="survivor")  # its servers' last log lines go through the saving endpoint
    assert server_pids("survivor") == []
    assert second.stop() == 0
    third = endpoint_processes("--work-dir", str(tmp_path / "work"))
    assert third.client("sagemaker").list_endpoints()["Endpoints"] == []  # the delete was saved


def test_model_servers_die_with_a_sigkilled_endpoint(tmp_path, endpoint_processes) -> None:
    endpoint = endpoint_processes("--work-dir", str(tmp_path / "work"))
    pids = _serve(endpoint, train_booster(8), "orphan-check")
    endpoint.kill()
    wait_until(lambda: not any(process_alive(pid) for pid in pids), DEATH_TIMEOUT_SECONDS,
               f"model servers {pids} outlived their SIGKILLed endpoint")
