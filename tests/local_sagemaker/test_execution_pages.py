"""The endpoint's own page of an execution: what the console shows, for a local execution."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tests.support.pipelines import create_pipeline, processing_step, put_script, wait_for


def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


def test_the_page_shows_the_status_the_steps_and_why_one_failed(endpoint, sagemaker, s3, bucket) -> None:
    failing = put_script(s3, bucket, "import sys\nprint('column <b>x</b> is empty')\nsys.exit(3)\n")
    name = create_pipeline(sagemaker, [processing_step("Prepare", bucket, failing)])
    arn = sagemaker.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    wait_for(sagemaker, arn)
    page = f"{endpoint}/local-console/pipelines/{name}/executions/{arn.rsplit('/', 1)[-1]}"

    status, content_type, body = get(page)
    assert status == 200 and content_type.startswith("text/html")
    assert "<b>Status:</b> Failed" in body and "<td>Prepare</td><td>Failed</td>" in body
    assert "column &lt;b&gt;x&lt;/b&gt; is empty" in body  # what a script printed is escaped

    status, _, text = get(f"{page}?format=json")
    facts = json.loads(text)
    assert status == 200 and facts["PipelineExecutionArn"] == arn
    assert [(s["StepName"], s["StepStatus"]) for s in facts["Steps"]] == [("Prepare", "Failed")]
    assert facts["Steps"][0]["Resource"].startswith("ProcessingJob pipelines-")


@pytest.mark.parametrize("path", ["/local-console/pipelines/nope/executions/none", "/local-console/pipelines/x"])
def test_an_unknown_execution_is_a_404(endpoint, path: str) -> None:
    status, _, body = get(f"{endpoint}{path}")
    assert status == 404 and "No pipeline execution" in body
