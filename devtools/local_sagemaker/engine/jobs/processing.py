"""Processing jobs: CreateProcessingJob's contract, run on a local process.

Inputs are copied from S3 into the sandbox, the entrypoint's Python script runs with the
job's Environment and ContainerArguments (or, for Model Monitor's analyzer image, its stand-in:
analyzer_image.py), outputs are uploaded at the end of the job, what the container left in
/opt/ml/output/message becomes the ExitMessage, and a pipeline step's PropertyFiles are read
from the outputs.
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import StepFailure
from ..s3_transfer import download_prefix, upload_directory
from .analyzer_image import analyzer_command, is_model_monitor_analyzer
from .container import ContainerJob, host_path_or_fail, image_repository, python_command
from .exit_message import exit_message_fields
from .lifecycle import JobRun

# Framework images whose user code is a Python script this endpoint's interpreter can run.
EMULATED_IMAGES = ("sagemaker-scikit-learn", "sagemaker-xgboost")
REQUEST_FIELDS = ("ProcessingInputs", "ProcessingOutputConfig", "ProcessingResources", "StoppingCondition",
                  "AppSpecification", "Environment", "NetworkConfig", "RoleArn", "ExperimentConfig", "Tags")
DEFAULT_MAX_RUNTIME = 86400


def processing_request(arguments: dict[str, Any]) -> dict[str, Any]:
    """The fields of CreateProcessingJob a job record keeps, with SageMaker's defaults."""
    request = {key: arguments[key] for key in REQUEST_FIELDS if arguments.get(key) is not None}
    request.setdefault("StoppingCondition", {"MaxRuntimeInSeconds": DEFAULT_MAX_RUNTIME})
    return request


def run_processing_job(job: JobRun, property_files: list[dict[str, Any]] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run the job to its end; return its description and the property files it wrote."""
    documents: dict[str, Any] = {}

    def work(run: JobRun) -> dict[str, Any]:
        files, fields = _run(run, property_files or [])
        documents.update(files)
        return fields

    return job.execute(work), documents


def _run(run: JobRun, property_files: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The property files the job wrote, and the fields its description gains (ExitMessage)."""
    record = run.record
    s3 = run.context.clients.s3
    app = record.get("AppSpecification", {})
    image = app.get("ImageUri", "")
    analyzer = is_model_monitor_analyzer(image)
    if not analyzer and image_repository(image) not in EMULATED_IMAGES:
        raise StepFailure(
            f"Image '{image}' cannot be emulated by the local endpoint: processing jobs run only "
            f"the Python framework images ({', '.join(EMULATED_IMAGES)}) and Model Monitor's analyzer"
        )
    entrypoint = app.get("ContainerEntrypoint") or []
    if not analyzer and not entrypoint:
        raise StepFailure(
            f"AppSpecification.ContainerEntrypoint is empty: the local endpoint cannot run image "
            f"'{image}' with its own entrypoint; use a script processor (python3 <script>)"
        )
    argv = analyzer_command(app) if analyzer else python_command([*entrypoint, *(app.get("ContainerArguments") or [])])
    job = ContainerJob(run)
    for item in record.get("ProcessingInputs", []):
        s3_input = item.get("S3Input")
        if not s3_input:
            raise StepFailure(f"ProcessingInput '{item.get('InputName')}': only S3Input is supported")
        target = host_path_or_fail(job.sandbox, s3_input["LocalPath"], f"ProcessingInput '{item.get('InputName')}' LocalPath")
        count = download_prefix(s3, s3_input["S3Uri"], target)
        job.log(f"Input {item.get('InputName')}: {count} object(s) from {s3_input['S3Uri']} to {s3_input['LocalPath']}")
        job.check_stopped()
    outputs = record.get("ProcessingOutputConfig", {}).get("Outputs", [])
    for output in outputs:
        host_path_or_fail(job.sandbox, output["S3Output"]["LocalPath"], f"ProcessingOutput '{output.get('OutputName')}' LocalPath").mkdir(parents=True, exist_ok=True)

    environment = {key: str(value) for key, value in (record.get("Environment") or {}).items()}
    job.run(argv, environment, record["StoppingCondition"].get("MaxRuntimeInSeconds"))

    for output in outputs:
        s3_output = output["S3Output"]
        count = upload_directory(s3, job.sandbox.host_path(s3_output["LocalPath"]), s3_output["S3Uri"])
        job.log(f"Output {output.get('OutputName')}: {count} file(s) to {s3_output['S3Uri']}")
    return _read_property_files(job, outputs, property_files), exit_message_fields(job.sandbox)


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
