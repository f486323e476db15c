"""An outage of the SageMaker API is absorbed within a budget, and reported with its start beyond it."""

from __future__ import annotations

import threading
import time

import pytest
from airflow_sagemaker_pipelines.hooks.transient_errors import is_transient
from airflow_sagemaker_pipelines.triggers.pipeline_execution import PipelineExecutionTrigger
from botocore.exceptions import ClientError, EndpointConnectionError

from devtools.local_airflow.environment import aws_connection_uri_json
from tests.support.outage import cuttable_proxy
from tests.support.pipelines import create_pipeline, processing_step, put_script, wait_for
from tests.support.triggers import first_event

FAIL_FAST = {"retries": {"mode": "standard", "max_attempts": 1}, "connect_timeout": 2, "read_timeout": 10}


@pytest.fixture
def proxied_connection(endpoint: str, monkeypatch: pytest.MonkeyPatch):
    """`aws_default` reaching the endpoint through a proxy the test can cut."""
    with cuttable_proxy(endpoint) as proxy:
        monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", aws_connection_uri_json(proxy.url))
        yield proxy


def sleeping_execution(endpoint_client, bucket: str, seconds: float) -> str:
    sagemaker = endpoint_client("sagemaker")
    script = put_script(endpoint_client("s3"), bucket, f"import time\ntime.sleep({seconds})\n")
    name = create_pipeline(sagemaker, [processing_step("Sleep", bucket, script)])
    arn = sagemaker.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    wait_for(sagemaker, arn, statuses=("Executing",))
    return arn


def test_an_outage_shorter_than_the_budget_is_only_polls(proxied_connection, endpoint_client, bucket, capfd) -> None:
    arn = sleeping_execution(endpoint_client, bucket, 6)
    proxied_connection.cut()
    threading.Timer(3, proxied_connection.mend).start()

    event = first_event(PipelineExecutionTrigger(pipeline_execution_arn=arn, waiter_delay=0.3, aws_conn_id="aws_default",
                                                 outage_budget=60, botocore_config=FAIL_FAST))

    assert event == {"status": "success", "value": arn, "execution_status": "Succeeded"}
    logged = capfd.readouterr()
    assert "the SageMaker API was unreachable since" in logged.out + logged.err
    assert "SageMaker API reachable again after" in logged.out + logged.err


def test_an_outage_beyond_the_budget_says_since_when_and_leaves_the_execution_running(
    proxied_connection, endpoint_client, bucket
) -> None:
    arn = sleeping_execution(endpoint_client, bucket, 120)
    proxied_connection.cut()
    started = time.time()

    event = first_event(PipelineExecutionTrigger(pipeline_execution_arn=arn, waiter_delay=0.3, aws_conn_id="aws_default",
                                                 outage_budget=2, botocore_config=FAIL_FAST))

    assert event["status"] == "error" and time.time() - started >= 2
    assert event["failure_reason"].startswith("the SageMaker API was unreachable since 20")
    sagemaker = endpoint_client("sagemaker")
    assert sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"] == "Executing"
    sagemaker.stop_pipeline_execution(PipelineExecutionArn=arn)


def test_the_hooks_retry_through_a_short_outage_by_default(proxied_connection, endpoint_client, bucket) -> None:
    from airflow_sagemaker_pipelines.hooks.pipeline_execution import PipelineExecutionHook

    arn = sleeping_execution(endpoint_client, bucket, 1)
    proxied_connection.cut()
    threading.Timer(2, proxied_connection.mend).start()
    hook = PipelineExecutionHook(aws_conn_id="aws_default")  # no config: the standard retries
    assert hook.describe_pipeline_exec(arn)["PipelineExecutionArn"] == arn
    assert hook.conn.meta.config.retries["mode"] == "standard"


@pytest.mark.parametrize(("error", "transient"), [
    (EndpointConnectionError(endpoint_url="http://x"), True),
    (ClientError({"Error": {"Code": "ThrottlingException"}}, "DescribePipelineExecution"), True),
    (ClientError({"Error": {"Code": "X"}, "ResponseMetadata": {"HTTPStatusCode": 503}}, "Op"), True),
    (ClientError({"Error": {"Code": "ValidationException"}, "ResponseMetadata": {"HTTPStatusCode": 400}}, "Op"), False),
    (ValueError("bad"), False),
])
def test_which_errors_pass_by_themselves(error: BaseException, transient: bool) -> None:
    assert is_transient(error) is transient
