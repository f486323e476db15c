"""Processing step: CreateProcessingJob's contract, run on a local process.

Inputs are copied from S3 into the sandbox, the entrypoint's Python script runs with the
step's Environment and ContainerArguments, outputs are uploaded at the end of the job, and
PropertyFiles are read from them.
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import StepFailure
from ..s3_transfer import download_prefix, upload_directory
from .container_job import ContainerJob, host_path_or_fail, image_repository, python_command
from .runtime import StepOutcome, StepRuntime, now

LOG_GROUP = "/aws/sagemaker/ProcessingJobs"
# Framework images whose user code is a Python script this endpoint's interpreter can run.
EMULATED_IMAGES = ("sagemaker-scikit-learn", "sagemaker-xgboost")


def run_processing_step(runtime: StepRuntime, arguments: dict[str, Any], property_files: list[dict[str, Any]]) -> StepOutcome:
    name = runtime.job_name()
    arn = runtime.arn("processing-job", name)
    started = now()
    record = {
        "ProcessingJobName": name,
        "ProcessingJobArn": arn,
        "ProcessingInputs": arguments.get("ProcessingInputs", []),
        "ProcessingOutputConfig": arguments.get("ProcessingOutputConfig", {"Outputs": []}),
        "ProcessingResources": arguments.get("ProcessingResources", {}),
        "StoppingCondition": arguments.get("StoppingCondition", {"MaxRuntimeInSeconds": 86400}),
        "AppSpecification": arguments.get("AppSpecification", {}),
        "Environment": arguments.get("Environment", {}),
        "RoleArn": arguments.get("RoleArn"),
        "ProcessingJobStatus": "InProgress",
        "CreationTime": started,
        "ProcessingStartTime": started,
        "LastModifiedTime": started,
        "PipelineExecutionArn": runtime.execution_arn,
    }
    runtime.jobs.put("processing", name, record)
    metadata = {"ProcessingJob": {"Arn": arn}}
    runtime.report_metadata(metadata)
    documents = runtime.jobs.run("processing", name, lambda: _run(runtime, name, record, property_files),
                                 ("ProcessingJobStatus",), "ProcessingEndTime")
    runtime.jobs.update("processing", name, ProcessingJobStatus="Completed", ProcessingEndTime=now())
    return StepOutcome(runtime.jobs.get("processing", name) or record, metadata, documents)


def _run(runtime: StepRuntime, name: str, record: dict[str, Any], property_files: list[dict[str, Any]]) -> dict[str, Any]:
    app = record["AppSpecification"]
    image = app.get("ImageUri", "")
    if image_repository(image) not in EMULATED_IMAGES:
        raise StepFailure(
            f"Image '{image}' cannot be emulated by the local endpoint: processing jobs run only "
            f"the Python framework images ({', '.join(EMULATED_IMAGES)})"
        )
    entrypoint = app.get("ContainerEntrypoint") or []
    if not entrypoint:
        raise StepFailure(
            f"AppSpecification.ContainerEntrypoint is empty: the local endpoint cannot run image "
            f"'{image}' with its own entrypoint; use a script processor (python3 <script>)"
        )
    job = ContainerJob(runtime, name, LOG_GROUP)
    for item in record["ProcessingInputs"]:
        s3_input = item.get("S3Input")
        if not s3_input:
            raise StepFailure(f"ProcessingInput '{item.get('InputName')}': only S3Input is supported")
        target = host_path_or_fail(job.sandbox, s3_input["LocalPath"], f"ProcessingInput '{item.get('InputName')}' LocalPath")
        count = download_prefix(runtime.clients.s3, s3_input["S3Uri"], target)
        job.log(f"Input {item.get('InputName')}: {count} object(s) from {s3_input['S3Uri']} to {s3_input['LocalPath']}")
        job.check_stopped()
    outputs = record["ProcessingOutputConfig"].get("Outputs", [])
    for output in outputs:
        host_path_or_fail(job.sandbox, output["S3Output"]["LocalPath"], f"ProcessingOutput '{output.get('OutputName')}' LocalPath").mkdir(parents=True, exist_ok=True)

    argv = python_command([*entrypoint, *(app.get("ContainerArguments") or [])])
    environment = {key: str(value) for key, value in (record["Environment"] or {}).items()}
    job.run(argv, environment, record["StoppingCondition"].get("MaxRuntimeInSeconds"))

    for output in outputs:
        s3_output = output["S3Output"]
        count = upload_directory(runtime.clients.s3, job.sandbox.host_path(s3_output["LocalPath"]), s3_output["S3Uri"])
        job.log(f"Output {output.get('OutputName')}: {count} file(s) to {s3_output['S3Uri']}")
    return _read_property_files(job, outputs, property_files)


def _read_property_files(job: ContainerJob, outputs: list[dict[str, Any]], property_files: list[dict[str, Any]]) -> dict[str, Any]:
    documents: dict[str, Any] = {}
    by_name = {output.get("OutputName"): output for output in outputs}
    for declared in property_files:
        file_name, output_name = declared.get("PropertyFileName"), declared.get("OutputName")
        if output_name not in by_name:
            raise StepFailure(f"PropertyFile '{file_name}' names output '{output_name}', which the step does not have")
        path = job.sandbox.host_path(by_name[output_name]["S3Output"]["LocalPath"]) / declared.get("FilePath", "")
        if not path.is_file():
            raise StepFailure(f"PropertyFile '{file_name}': the job did not write {declared.get('FilePath')} in output '{output_name}'")
        try:
            documents[file_name] = json.loads(path.read_text())
        except ValueError as error:
            raise StepFailure(f"PropertyFile '{file_name}' ({declared.get('FilePath')}) is not valid JSON: {error}") from None
    return documents
