"""The training DAG's runs on a stack, read through the REST API and the endpoint: what the stack tests wait on."""

from __future__ import annotations

import hashlib
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

from tests.support.constants import DAG_ID

PIPELINE = "ml-classification-pipeline"


def eventually(check: Callable[[], Any], what: str, timeout: float = 180, every: float = 0.5) -> Any:
    """The first truthy result of `check`, polled until `timeout` (then TimeoutError naming `what`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(every)
    raise TimeoutError(f"{what} not within {timeout:.0f} s")


def run_path(run_id: str) -> str:
    return f"/api/v2/dags/{DAG_ID}/dagRuns/{urllib.parse.quote(run_id, safe='')}"


def trigger(api, conf: dict | None = None) -> str:
    """Unpause the DAG and start a manual run (it trains on the last complete day); its run id."""
    api.wait_for_dag(DAG_ID)
    api.call(f"/api/v2/dags/{DAG_ID}", body={"is_paused": False}, method="PATCH")
    return api.call(f"/api/v2/dags/{DAG_ID}/dagRuns", body={"logical_date": None, "conf": conf or {}})["dag_run_id"]


def task_instance(api, run_id: str, task_id: str) -> dict:
    return api.call(f"{run_path(run_id)}/taskInstances/{task_id}")


def run_state(api, run_id: str) -> str:
    return api.call(run_path(run_id))["state"]


def finished(api, run_id: str, timeout: float = 600) -> str:
    return eventually(lambda: run_state(api, run_id) in ("success", "failed") and run_state(api, run_id),
                      f"the end of run {run_id}", timeout=timeout, every=1)


def executions_of_run(sagemaker, run_id: str) -> list[str]:
    """ARNs of the pipeline executions started for this run: their display names end with its digest."""
    digest = hashlib.sha256(f"{DAG_ID}\0{run_id}".encode()).hexdigest()[:10]  # execution_identity's
    found, token = [], None
    while True:
        page = sagemaker.list_pipeline_executions(PipelineName=PIPELINE, MaxResults=100,
                                                  **({"NextToken": token} if token else {}))
        found += [e["PipelineExecutionArn"] for e in page["PipelineExecutionSummaries"]
                  if digest in e.get("PipelineExecutionDisplayName", "")]
        token = page.get("NextToken")
        if not token:
            return found
