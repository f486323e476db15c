"""The endpoint's own view of a pipeline execution: what the SageMaker console shows, for a local one.

`GET /local-console/pipelines/<pipeline>/executions/<execution id>` answers an HTML page with
the execution's status, failure reason, parameters and every step (status, times, failure
reason, job); `?format=json` answers the same facts as JSON. The Airflow task that started or
waits for the execution links here when its connection points at this endpoint (the AWS
console link cannot show a local execution). Read-only; it changes nothing.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from airflow_sagemaker_pipelines.console_urls import LOCAL_EXECUTION_PAGE

from .engine.execution import PipelineExecutionRun
from .models import installed_backends

# The path the plugin's "Local endpoint execution" link opens (one definition, the plugin's).
PAGE_PREFIX = LOCAL_EXECUTION_PAGE.split("{", 1)[0]
_PAGE = re.compile("^" + re.escape(LOCAL_EXECUTION_PAGE).replace(r"\{pipeline_name\}", "(?P<pipeline>[^/]+)")
                   .replace(r"\{execution_id\}", "(?P<execution>[^/]+)") + "/?$")


def execution_page_path(pipeline_name: str, execution_id: str) -> str:
    return LOCAL_EXECUTION_PAGE.format(pipeline_name=pipeline_name, execution_id=execution_id)


def _find_run(pipeline: str, execution: str) -> PipelineExecutionRun | None:
    suffix = f":pipeline/{pipeline}/execution/{execution}"
    for backend in installed_backends():
        for arn, run in list(backend.runs.items()):
            if arn.endswith(suffix):
                return run
    return None


def execution_facts(run: PipelineExecutionRun) -> dict[str, Any]:
    steps = sorted(run.list_steps(), key=lambda step: step["StartTime"])
    return {
        "PipelineExecutionArn": run.settings.arn,
        "PipelineName": run.settings.pipeline_name,
        "PipelineExecutionStatus": run.status,
        "FailureReason": run.failure_reason,
        "StartTime": run.start_time.isoformat(),
        "Parameters": {name: str(value) for name, value in run.settings.parameters.items()},
        "Steps": [{
            "StepName": step["StepName"], "StepStatus": step["StepStatus"],
            "StartTime": step["StartTime"].isoformat() if step.get("StartTime") else None,
            "EndTime": step["EndTime"].isoformat() if step.get("EndTime") else None,
            "FailureReason": step.get("FailureReason"),
            "Resource": next((f"{kind} {entry.get('Arn', '').rsplit('/', 1)[-1]}"
                              for kind, entry in (step.get("Metadata") or {}).items() if isinstance(entry, dict)), None),
        } for step in steps],
    }


def render(facts: dict[str, Any]) -> str:
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(s['StepName'])}</td><td>{e(s['StepStatus'])}</td><td>{e(s['StartTime'] or '')}</td>"
        f"<td>{e(s['EndTime'] or '')}</td><td>{e(s['Resource'] or '')}</td><td><pre>{e(s['FailureReason'] or '')}</pre></td></tr>"
        for s in facts["Steps"])
    parameters = "".join(f"<tr><td>{e(k)}</td><td>{e(v)}</td></tr>" for k, v in sorted(facts["Parameters"].items()))
    reason = f"<p><b>Failure reason:</b></p><pre>{e(facts['FailureReason'])}</pre>" if facts["FailureReason"] else ""
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>"
        f"{e(facts['PipelineName'])} execution (local endpoint)</title></head><body>"
        f"<h1>{e(facts['PipelineName'])}</h1><p><code>{e(facts['PipelineExecutionArn'])}</code></p>"
        f"<p><b>Status:</b> {e(facts['PipelineExecutionStatus'])} &middot; started {e(facts['StartTime'])}</p>{reason}"
        "<h2>Steps</h2><table border='1' cellpadding='4'><tr><th>Step</th><th>Status</th><th>Started</th><th>Ended</th>"
        f"<th>Job</th><th>Failure reason</th></tr>{rows}</table>"
        f"<h2>Parameters</h2><table border='1' cellpadding='4'>{parameters}</table></body></html>"
    )


class ExecutionPages:
    """WSGI middleware answering the execution pages; every other request goes on to the endpoint."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(PAGE_PREFIX) or environ.get("REQUEST_METHOD", "GET").upper() not in ("GET", "HEAD"):
            return self.app(environ, start_response)
        match = _PAGE.match(path)
        run = _find_run(match["pipeline"], match["execution"]) if match else None
        if run is None:
            return _answer(start_response, "404 Not Found", "text/plain; charset=utf-8",
                           f"No pipeline execution at {path} on this endpoint".encode())
        facts = execution_facts(run)
        if parse_qs(environ.get("QUERY_STRING", "")).get("format") == ["json"]:
            return _answer(start_response, "200 OK", "application/json", json.dumps(facts).encode())
        return _answer(start_response, "200 OK", "text/html; charset=utf-8", render(facts).encode())


def _answer(start_response: Callable[..., Any], status: str, content_type: str, body: bytes) -> list[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]
