"""What a real-time endpoint on the local endpoint costs, against the same model scored in-process.

One endpoint process (`python -m devtools.local_sagemaker`, as a user runs it) serves one XGBoost
model; side by side in one run:
1. Latency of InvokeEndpoint (boto3's sagemaker-runtime client, text/csv) for 1 row and for
   1,000 rows, p50 and p99, against `Booster.predict` of the same model in this process
   (the CSV already parsed: the model's own cost; one thread, as the XGBoost container sets it). Rounds alternate, so a neighbour's load
   falls on both. Goal: the endpoint adds at most 5 ms at p50 for one row.
2. Throughput with 8 concurrent clients for 30 s: requests per second and errors (goal: 0).
3. The resident memory (RSS) of the endpoint's model server processes.
4. An UpdateEndpoint in the middle of that load: failed invocations (goal: 0).
The assertions are the zero-error goals and a loose regression guard; the printed figures are
the ones to read.
"""

from __future__ import annotations

import statistics
import threading
import time
from typing import Any

import numpy as np
import pytest
from botocore.config import Config

from tests.local_sagemaker.endpoint_process import EndpointProcess
from tests.local_sagemaker.serving import (
    create_config,
    create_model,
    csv_body,
    deploy,
    rows,
    server_pids,
    train_booster,
    wait_endpoint,
    xgboost_artifact,
)

CALLS = 300
ROUNDS = 3
CLIENTS = 8
LOAD_SECONDS = 30.0
ADDED_P50_GOAL_MS, ADDED_P50_GUARD_MS = 5.0, 50.0


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def _timed(call: Any, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as handle:
        line = next(line for line in handle if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


@pytest.mark.perf
def test_real_time_endpoint_latency_throughput_memory_and_update_under_load() -> None:
    import xgboost as xgb

    server = EndpointProcess([])
    try:
        _measure(server, xgb)
    finally:
        server.kill()


def _measure(server: EndpointProcess, xgb: Any) -> None:
    import boto3

    s3, sagemaker = server.client("s3"), server.client("sagemaker")

    def runtime_client() -> Any:
        """One client per thread, with no retries: a failure shows as one."""
        return boto3.session.Session(region_name="us-east-1").client(
            "sagemaker-runtime", endpoint_url=server.url, config=Config(retries={"max_attempts": 1}, max_pool_connections=2))

    s3.create_bucket(Bucket="perf-serving")
    booster, replacement = train_booster(11, rounds=100), train_booster(12, rounds=100)
    name = deploy(sagemaker, xgboost_artifact(s3, "perf-serving", booster))
    client = runtime_client()
    payloads = {"1 row": rows(1, 21), "1,000 rows": rows(1000, 22)}
    bodies = {label: csv_body(values) for label, values in payloads.items()}
    parsed = {label: np.array([line.split(",") for line in body.decode().splitlines()]).astype(float)
              for label, body in bodies.items()}
    local = xgb.Booster()
    local.load_model(bytearray(booster.save_raw("json")))
    local.set_param("nthread", 1)  # as the container (and so the endpoint's server) sets it: the same work on each side

    endpoint_ms: dict[str, list[float]] = {label: [] for label in bodies}
    direct_ms: dict[str, list[float]] = {label: [] for label in bodies}
    for label, body in bodies.items():  # warm both paths
        client.invoke_endpoint(EndpointName=name, Body=body, ContentType="text/csv")["Body"].read()
        local.predict(xgb.DMatrix(parsed[label], nthread=1))
    for _ in range(ROUNDS):
        for label, body in bodies.items():
            endpoint_ms[label] += _timed(lambda body=body: client.invoke_endpoint(
                EndpointName=name, Body=body, ContentType="text/csv")["Body"].read(), CALLS // ROUNDS)
            direct_ms[label] += _timed(lambda label=label: local.predict(xgb.DMatrix(parsed[label], nthread=1)), CALLS // ROUNDS)

    print(f"\nInvokeEndpoint vs Booster.predict in-process, {CALLS} calls each, {ROUNDS} alternating rounds "
          f"(XGBoost, 100 trees of depth 3, 4 features):")
    added_one_row = 0.0
    for label in bodies:
        (endpoint_p50, endpoint_p99), (direct_p50, direct_p99) = _percentiles(endpoint_ms[label]), _percentiles(direct_ms[label])
        added = endpoint_p50 - direct_p50
        if label == "1 row":
            added_one_row = added
        print(f"  {label:>10}: endpoint p50 {endpoint_p50:.2f} ms, p99 {endpoint_p99:.2f} ms | in-process p50 "
              f"{direct_p50:.2f} ms, p99 {direct_p99:.2f} ms | added at p50 {added:.2f} ms, ratio p50 "
              f"{endpoint_p50 / direct_p50:.1f}x, p99 {endpoint_p99 / direct_p99:.1f}x")
    print(f"  goal: the endpoint adds at most {ADDED_P50_GOAL_MS:g} ms at p50 for one row; added {added_one_row:.2f} ms")

    rss = {pid: _rss_mb(pid) for pid in server_pids(name)}
    print(f"Model server processes of the endpoint (1 instance): RSS {sum(rss.values()):.0f} MB "
          f"({', '.join(f'pid {pid}: {mb:.0f} MB' for pid, mb in rss.items())})")

    updated = create_config(sagemaker, [("Blue", create_model(sagemaker, xgboost_artifact(s3, "perf-serving", replacement)), 1.0, 1)])
    counts = [0] * CLIENTS
    failures: list[str] = []
    variants: set[str] = set()
    stop = threading.Event()

    def load(index: int) -> None:
        own = runtime_client()
        while not stop.is_set():
            try:
                answer = own.invoke_endpoint(EndpointName=name, Body=bodies["1 row"], ContentType="text/csv")
                answer["Body"].read()
                variants.add(answer["InvokedProductionVariant"])
                counts[index] += 1
            except Exception as error:  # every failure counts, whatever it is
                failures.append(f"{type(error).__name__}: {error}")

    threads = [threading.Thread(target=load, args=(index,)) for index in range(CLIENTS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    time.sleep(LOAD_SECONDS / 3)  # a third of the run at steady load, then the update, under the same load
    update_started = time.monotonic()
    sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=updated)
    wait_endpoint(sagemaker, name, timeout=LOAD_SECONDS * 4, statuses=("InService",))
    update_seconds = time.monotonic() - update_started
    time.sleep(max(0.0, LOAD_SECONDS - (time.monotonic() - started)))
    stop.set()
    for thread in threads:
        thread.join(60)
    elapsed = time.monotonic() - started
    total = sum(counts)
    print(f"Throughput, {CLIENTS} concurrent clients for {elapsed:.0f} s, 1 row each: {total / elapsed:.0f} requests/s "
          f"({total} requests), {len(failures)} errors")
    print(f"UpdateEndpoint under that load: InService again after {update_seconds:.1f} s, variants answering "
          f"{sorted(variants)}, {len(failures)} failed invocations (goal 0)")
    assert failures == [], failures[:5]
    assert variants == {"AllTraffic", "Blue"}
    assert added_one_row < ADDED_P50_GUARD_MS, f"the endpoint adds {added_one_row:.1f} ms at p50, past the guard"
