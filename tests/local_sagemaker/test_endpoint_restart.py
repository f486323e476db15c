"""With --work-dir, a restarted endpoint has everything it had: objects, pipelines, executions, the registry...

Issue 11: after a restart the stack found no bucket, no pipeline, no approved package, no
topic; the next run failed with NoSuchBucket. Here one endpoint builds all of it, is stopped
with SIGTERM, and a second one on the same work dir must answer every read the same way.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.pipelines import create_pipeline, processing_step, put_script, steps_by_name, wait_for
from tests.support.registry import register_package

from .endpoint_process import EndpointProcess

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the endpoint's job sandbox is Linux's")

BUCKET = "restart-data"
LARGE_BODY_BYTES = 12 * 1024 * 1024  # above moto's 8 MiB in-memory buffer: a body moto keeps in a temporary file
VERSIONED = "restart-versions"
TOKEN = "restart-test-token-0123456789abcdef0123"


def _without_metadata(response: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in response.items() if key != "ResponseMetadata"}


def _build_everything(endpoint: EndpointProcess) -> dict[str, Any]:
    """Buckets and objects, a pipeline run to Succeeded, an approved package, an experiment, SNS → SQS."""
    s3, sagemaker = endpoint.client("s3"), endpoint.client("sagemaker")
    sns, sqs = endpoint.client("sns"), endpoint.client("sqs")
    s3.create_bucket(Bucket=BUCKET)
    bodies = {"raw-data/ds=2024-03-01/part-0.csv": b"label,x\n1,0.5\n0,0.1\n",
              "raw-data/large.bin": os.urandom(LARGE_BODY_BYTES)}
    for key, body in bodies.items():
        s3.put_object(Bucket=BUCKET, Key=key, Body=body, Metadata={"origin": "test"})
    s3.create_bucket(Bucket=VERSIONED)
    s3.put_bucket_versioning(Bucket=VERSIONED, VersioningConfiguration={"Status": "Enabled"})
    for version in (b"first", b"second"):
        s3.put_object(Bucket=VERSIONED, Key="model.json", Body=version)
    s3.put_object_acl(Bucket=BUCKET, Key="raw-data/ds=2024-03-01/part-0.csv", ACL="public-read")
    script = put_script(s3, BUCKET, "import json\nprint('evaluating')\n"
                                    "json.dump({'auc': 0.9}, open('/opt/ml/processing/output/report/report.json', 'w'))")
    step = processing_step("Evaluate", BUCKET, script, outputs={"report": f"s3://{BUCKET}/report"})
    pipeline = create_pipeline(sagemaker, [step])
    execution = sagemaker.start_pipeline_execution(PipelineName=pipeline, ClientRequestToken=TOKEN)["PipelineExecutionArn"]
    assert wait_for(sagemaker, execution)["PipelineExecutionStatus"] == "Succeeded"

    group = "restart-models"
    package = register_package(endpoint.client, group, BUCKET, 0.91, status="PendingManualApproval",
                               data_day="2024-03-01", pipeline_version="v1", data_fingerprint="f1")
    sagemaker.update_model_package(ModelPackageArn=package, ModelApprovalStatus="Approved", ApprovalDescription="best")
    sagemaker.create_experiment(ExperimentName="restart-experiment")
    sagemaker.create_trial(TrialName="restart-trial", ExperimentName="restart-experiment")

    topic = sns.create_topic(Name="restart-reports")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="restart-reports")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    sns.publish(TopicArn=topic, Message="sent before the restart")
    return {"bodies": bodies, "pipeline": pipeline, "execution": execution, "package": package, "group": group,
            "topic": topic, "queue_url": queue_url}


def _observe(endpoint: EndpointProcess, built: dict[str, Any]) -> dict[str, Any]:
    """Every read a client (the DAG, the SDK, a person) makes of what `_build_everything` made."""
    s3, sagemaker, logs, sns = (endpoint.client(name) for name in ("s3", "sagemaker", "logs", "sns"))
    execution = built["execution"]
    steps = steps_by_name(sagemaker, execution)
    job_name = sagemaker.describe_processing_job(  # the ARN has the name lowercased, the log stream does not
        ProcessingJobName=steps["Evaluate"]["Metadata"]["ProcessingJob"]["Arn"].rsplit("/", 1)[-1])["ProcessingJobName"]
    streams = logs.describe_log_streams(logGroupName="/aws/sagemaker/ProcessingJobs",
                                        logStreamNamePrefix=job_name)["logStreams"]
    objects = s3.list_objects_v2(Bucket=BUCKET)["Contents"]
    return {
        "objects": {item["Key"]: (item["ETag"], item["Size"]) for item in objects},
        "bodies": {key: hashlib.sha256(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()).hexdigest()
                   for key in built["bodies"]},
        "metadata": s3.head_object(Bucket=BUCKET, Key="raw-data/large.bin")["Metadata"],
        "acl": s3.get_object_acl(Bucket=BUCKET, Key="raw-data/ds=2024-03-01/part-0.csv")["Grants"],
        "versions": [(version["VersionId"], s3.get_object(Bucket=VERSIONED, Key="model.json",
                                                          VersionId=version["VersionId"])["Body"].read())
                     for version in s3.list_object_versions(Bucket=VERSIONED)["Versions"]],
        "report": json.loads(s3.get_object(Bucket=BUCKET, Key="report/report.json")["Body"].read()),
        "pipeline": _without_metadata(sagemaker.describe_pipeline(PipelineName=built["pipeline"])),
        "execution": _without_metadata(sagemaker.describe_pipeline_execution(PipelineExecutionArn=execution)),
        "executions": sagemaker.list_pipeline_executions(PipelineName=built["pipeline"])["PipelineExecutionSummaries"],
        "steps": steps,
        "definition": sagemaker.describe_pipeline_definition_for_execution(PipelineExecutionArn=execution)["PipelineDefinition"],
        "job": _without_metadata(sagemaker.describe_processing_job(ProcessingJobName=job_name)),
        "log": [event["message"] for stream in streams for event in logs.get_log_events(
            logGroupName="/aws/sagemaker/ProcessingJobs", logStreamName=stream["logStreamName"])["events"]],
        "package": _without_metadata(sagemaker.describe_model_package(ModelPackageName=built["package"])),
        "group": _without_metadata(sagemaker.describe_model_package_group(ModelPackageGroupName=built["group"])),
        "trial": _without_metadata(sagemaker.describe_trial(TrialName="restart-trial")),
        "subscriptions": sns.list_subscriptions_by_topic(TopicArn=built["topic"])["Subscriptions"],
    }


def test_a_restarted_endpoint_answers_every_read_as_before(tmp_path: Path, endpoint_processes: Any) -> None:
    work_dir = tmp_path / "work"
    first = endpoint_processes("--work-dir", str(work_dir))
    built = _build_everything(first)
    before = _observe(first, built)
    assert before["log"] and "evaluating" in before["log"], "the job's log should be in CloudWatch Logs"
    assert first.stop() == 0

    second = endpoint_processes("--work-dir", str(work_dir))
    assert "restored: s3, sagemaker" in second.ready_line
    after = _observe(second, built)
    assert after == before
    assert [body for _, body in after["versions"]] == [b"second", b"first"]
    assert after["package"]["ModelApprovalStatus"] == "Approved"
    assert after["package"]["CustomerMetadataProperties"] == {"DataDay": "2024-03-01", "DataFingerprint": "f1",
                                                             "PipelineVersion": "v1"}

    sagemaker, sqs, sns = second.client("sagemaker"), second.client("sqs"), second.client("sns")
    # The DAG's retried start sends the same token: it must find the same execution, not start another.
    again = sagemaker.start_pipeline_execution(PipelineName=built["pipeline"], ClientRequestToken=TOKEN)
    assert again["PipelineExecutionArn"] == built["execution"]
    # The message queued before the restart is still there, and the subscription still delivers.
    sns.publish(TopicArn=built["topic"], Message="sent after the restart")
    received = []
    for _ in range(10):
        messages = sqs.receive_message(QueueUrl=built["queue_url"], MaxNumberOfMessages=10,
                                       WaitTimeSeconds=1).get("Messages", [])
        received += [message["Body"] for message in messages]
        if len(received) >= 2:
            break
    assert sorted(received) == ["sent after the restart", "sent before the restart"]
    assert second.stop() == 0
