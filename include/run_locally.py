"""Run the classification pipeline end to end on the local endpoint and print a summary.

`python -m include.run_locally [--day YYYY-MM-DD] [--min-auc 0.6]`: starts the endpoint on a
free loopback port, seeds that day's partition, upserts the pipeline, runs one execution on
the partition, prints each step's status and duration, the AUC, the model package and its
status, stops the endpoint, and exits non-zero when the execution did not succeed.
No AWS account is used: every client points at 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from datetime import date, timedelta

BUCKET = "ml-pipeline-data"
ROLE_ARN = "arn:aws:iam::123456789012:role/SageMakerPipelineRole"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m include.run_locally", description=__doc__.splitlines()[0])
    parser.add_argument("--day", type=date.fromisoformat, default=date.today() - timedelta(days=1))
    parser.add_argument("--min-auc", type=float, default=0.6)
    options = parser.parse_args(argv)
    # Fake credentials: the local endpoint accepts any, and nothing here may reach AWS.
    for name, value in {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
                        "AWS_EC2_METADATA_DISABLED": "true", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        os.environ[name] = value

    from include.data.partitions import partition_uri, seed_partitions
    from include.local_sagemaker.server import LocalSageMakerEndpoint
    from include.pipelines.sdk_session import boto3_session
    from include.pipelines.settings import PipelineSettings
    from include.pipelines.upsert import upsert_pipeline

    _quiet_sdk_logging()
    with LocalSageMakerEndpoint("127.0.0.1", 0) as endpoint:
        print(f"Local SageMaker endpoint: {endpoint.url}")
        session = boto3_session("us-east-1", endpoint.url)
        seed_partitions(session.client("s3"), BUCKET, options.day, options.day)
        settings = PipelineSettings(region="us-east-1", role_arn=ROLE_ARN, bucket=BUCKET, min_auc_threshold=options.min_auc)
        upsert = upsert_pipeline(session, settings)
        print(f"Pipeline {settings.pipeline_name}: {upsert.action}")
        sagemaker = session.client("sagemaker")
        arn = sagemaker.start_pipeline_execution(
            PipelineName=settings.pipeline_name,
            PipelineExecutionDisplayName=f"local-{options.day.isoformat()}",
            PipelineParameters=[{"Name": "InputDataUrl", "Value": partition_uri(BUCKET, options.day)},
                                {"Name": "MinAucThreshold", "Value": str(options.min_auc)}],
        )["PipelineExecutionArn"]
        print(f"Execution: {arn}")
        while (status := sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn))["PipelineExecutionStatus"] in ("Executing", "Stopping"):
            time.sleep(1)
        return _summarize(session, sagemaker, arn, status)


def _quiet_sdk_logging() -> None:
    """The SDK turns its loggers (and botocore's) up to INFO/DEBUG on import; the summary is what counts."""
    import warnings

    import sagemaker.core  # noqa: F401 - configures its loggers on import; override after

    warnings.filterwarnings("ignore")
    for name in ("sagemaker", "botocore", "boto3", ""):
        logging.getLogger(name).setLevel(logging.WARNING)


def _summarize(session, sagemaker, arn: str, status: dict) -> int:
    steps = sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=arn, SortOrder="Ascending")["PipelineExecutionSteps"]
    print(f"Status: {status['PipelineExecutionStatus']}" + (f" ({status['FailureReason']})" if status.get("FailureReason") else ""))
    for step in steps:
        seconds = (step.get("EndTime", step["StartTime"]) - step["StartTime"]).total_seconds()
        reason = f"  {step['FailureReason'][:200]}" if step.get("FailureReason") else ""
        print(f"  {step['StepName']:<20} {step['StepStatus']:<10} {seconds:6.1f} s{reason}")
    evaluation = next((s for s in steps if s["StepName"] == "EvaluateModel" and s["StepStatus"] == "Succeeded"), None)
    if evaluation:
        job = sagemaker.describe_processing_job(ProcessingJobName=evaluation["Metadata"]["ProcessingJob"]["Arn"].rsplit("/", 1)[-1])
        uri = next(o for o in job["ProcessingOutputConfig"]["Outputs"] if o["OutputName"] == "evaluation")["S3Output"]["S3Uri"]
        bucket, key = uri[5:].split("/", 1)
        report = json.loads(session.client("s3").get_object(Bucket=bucket, Key=f"{key}/evaluation.json")["Body"].read())
        print(f"AUC: {report['classification_metrics']['auc_roc']['value']:.4f}")
    register = next((s for s in steps if s["StepName"] == "RegisterModel"), None)
    if register and register["StepStatus"] == "Succeeded":
        package = sagemaker.describe_model_package(ModelPackageName=register["Metadata"]["RegisterModel"]["Arn"])
        print(f"Model package: {package['ModelPackageArn']} ({package['ModelApprovalStatus']})")
    return 0 if status["PipelineExecutionStatus"] == "Succeeded" else 1


if __name__ == "__main__":
    sys.exit(main())
