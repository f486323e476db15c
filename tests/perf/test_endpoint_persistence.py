"""What keeping the state (--work-dir) costs per request, side by side with an endpoint that keeps none.

Two endpoint processes run at once, one with --work-dir (every change is saved before it
answers), one without; the same calls go to each in alternating rounds and the best round of
each is compared, as the machine is shared. Printed: sequential PutObject (1 KiB) into an
almost empty endpoint and into one holding 2,000 objects (a snapshot pickles the whole S3
service, so its cost grows with the number of objects), DescribePipelineExecution (a read:
nothing is saved), and the restart of the endpoint holding those objects. Figures, not
thresholds: docs/performance.md quotes them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.local_sagemaker.endpoint_process import EndpointProcess
from tests.support.pipelines import create_pipeline, wait_for

CALLS = 200
ROUNDS = 3
SEEDED_OBJECTS = 2000
BODY = b"x" * 1024


def _seconds(call: Callable[[int], Any]) -> float:
    started = time.perf_counter()
    for number in range(CALLS):
        call(number)
    return time.perf_counter() - started


def _puts(endpoint: EndpointProcess, bucket: str) -> Callable[[int], Any]:
    s3 = endpoint.client("s3")
    return lambda number: s3.put_object(Bucket=bucket, Key=f"put/{number}", Body=BODY)


def _describes(endpoint: EndpointProcess) -> Callable[[int], Any]:
    sagemaker = endpoint.client("sagemaker")
    pipeline = create_pipeline(sagemaker, [{"Name": "Gate", "Type": "Condition", "Arguments": {
        "Conditions": [{"Type": "Equals", "LeftValue": 1, "RightValue": 1}]}}])
    arn = sagemaker.start_pipeline_execution(PipelineName=pipeline)["PipelineExecutionArn"]
    wait_for(sagemaker, arn)
    return lambda _: sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)


def _side_by_side(kept: EndpointProcess, plain: EndpointProcess, make: Callable[[EndpointProcess], Any]) -> tuple[float, float]:
    """Best of ROUNDS for each, the rounds alternating between the two endpoints."""
    calls = (make(kept), make(plain))
    rounds = [(_seconds(calls[0]), _seconds(calls[1])) for _ in range(ROUNDS)]
    return min(kept_seconds for kept_seconds, _ in rounds), min(plain_seconds for _, plain_seconds in rounds)


@pytest.mark.perf
def test_what_keeping_the_state_costs_per_request(tmp_path: Path) -> None:
    kept = EndpointProcess(["--work-dir", str(tmp_path / "work")])
    plain = EndpointProcess([])
    restarted: EndpointProcess | None = None
    try:
        for endpoint in (kept, plain):
            endpoint.client("s3").create_bucket(Bucket="perf-empty")
            endpoint.client("s3").create_bucket(Bucket="perf-full")
        rows = [
            ("PutObject 1 KiB, near-empty endpoint", _side_by_side(kept, plain, lambda e: _puts(e, "perf-empty"))),
            ("DescribePipelineExecution", _side_by_side(kept, plain, _describes)),
        ]
        for endpoint in (kept, plain):
            s3 = endpoint.client("s3")
            for number in range(SEEDED_OBJECTS):
                s3.put_object(Bucket="perf-full", Key=f"seed/{number}", Body=BODY)
        rows.append((f"PutObject 1 KiB, {SEEDED_OBJECTS} objects stored",
                     _side_by_side(kept, plain, lambda e: _puts(e, "perf-full"))))
        assert kept.stop() == 0
        started = time.perf_counter()
        restarted = EndpointProcess(["--work-dir", str(tmp_path / "work")])
        restart_seconds = time.perf_counter() - started
        listed = restarted.client("s3").list_objects_v2(Bucket="perf-full", Prefix="seed/")["KeyCount"]
        assert listed == 1000  # one page of the restored objects
    finally:
        for endpoint in (kept, plain, restarted):
            if endpoint:
                endpoint.kill()
    print(f"\nKeeping the state (--work-dir) vs none, {CALLS} sequential calls, best of {ROUNDS} rounds:")
    for label, (with_state, without) in rows:
        print(f"  {label:<42} {with_state * 1000 / CALLS:6.2f} ms vs {without * 1000 / CALLS:6.2f} ms per call: "
              f"{with_state / without:4.2f}x")
    print(f"  restart with {SEEDED_OBJECTS + 2 * CALLS + 1} objects stored: ready in {restart_seconds:.1f} s")
