"""Batch transform jobs: CreateTransformJob's contract, run on a local process.

The model's container is emulated by containers/batch_transform.py in the job's sandbox: the
built-in XGBoost algorithm (`xgboost-model` in model.tar.gz), the built-in KNN, Linear Learner and
K-Means algorithms (`model_algo-1`, as first_party_algorithms.py trains them) or a script-mode model
(SAGEMAKER_PROGRAM with model_fn/input_fn/predict_fn/output_fn). Each input object under the
S3 prefix is split (SplitType None or Line), sent in requests of at most MaxPayloadInMB
(BatchStrategy MultiRecord) or one record each (SingleRecord), and the responses are assembled
(AssembleWith None or Line) into one `<object>.out` under S3OutputPath, as SageMaker does;
DataProcessing filters and joins records (containers/data_processing.py).
"""

from __future__ import annotations

import json
import sys
import tarfile
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from ..builtin_algorithms import EMULATED_IMAGES, builtin_algorithm
from ..errors import StepFailure
from ..s3_transfer import download_prefix, join_uri, split_s3_uri, upload_file
from .container import ContainerJob
from .lifecycle import JobRun

REQUEST_FIELDS = ("ModelName", "MaxConcurrentTransforms", "ModelClientConfig", "MaxPayloadInMB", "BatchStrategy",
                  "Environment", "TransformInput", "TransformOutput", "DataCaptureConfig", "TransformResources",
                  "DataProcessing", "ExperimentConfig", "Tags")
DEFAULT_MAX_PAYLOAD_MB = 6
BATCH_CONTAINER = Path(__file__).resolve().parents[2] / "containers" / "batch_transform.py"
SUPPORTED_SPLIT_TYPES = ("None", "Line")
MAX_RUNTIME_SECONDS = 86400


def transform_request(arguments: dict[str, Any]) -> dict[str, Any]:
    """The fields of CreateTransformJob a job record keeps."""
    return {key: arguments[key] for key in REQUEST_FIELDS if arguments.get(key) is not None}


def run_transform_job(job: JobRun) -> dict[str, Any]:
    """Run the job to its end and return its description."""
    return job.execute(_run)


def _run(run: JobRun) -> dict[str, Any]:
    record = run.record
    clients = run.context.clients
    transform_input = record.get("TransformInput") or {}
    split_type = transform_input.get("SplitType", "None")
    if split_type not in SUPPORTED_SPLIT_TYPES:
        raise StepFailure(
            f"TransformInput.SplitType {split_type!r} is not emulated by the local endpoint; "
            f"it splits with: {', '.join(SUPPORTED_SPLIT_TYPES)}"
        )
    source = (transform_input.get("DataSource") or {}).get("S3DataSource") or {}
    if source.get("S3DataType", "S3Prefix") != "S3Prefix":
        raise StepFailure(
            f"TransformInput.DataSource.S3DataSource.S3DataType {source.get('S3DataType')!r} is not emulated "
            "by the local endpoint; use S3Prefix"
        )
    container = _model_container(clients.sagemaker, record.get("ModelName", ""))
    image = container.get("Image", "")
    environment = {**(container.get("Environment") or {}), **(record.get("Environment") or {})}
    program = environment.get("SAGEMAKER_PROGRAM")
    algorithm = builtin_algorithm(image)
    if not program and not algorithm:
        raise StepFailure(
            f"Image '{image}' of model '{record.get('ModelName')}' cannot be emulated by the local endpoint: "
            f"batch transform runs {EMULATED_IMAGES} and script-mode models (SAGEMAKER_PROGRAM)"
        )

    job = ContainerJob(run)
    sandbox = job.sandbox
    model_dir = sandbox.host_path("/opt/ml/model")
    _extract(clients.s3, container.get("ModelDataUrl"), model_dir, job)
    if program:
        _stage_code(clients.s3, environment.get("SAGEMAKER_SUBMIT_DIRECTORY", ""), sandbox.host_path("/opt/ml/code"), job)
    input_dir = sandbox.host_path("/opt/ml/transform/input")
    output_dir = sandbox.host_path("/opt/ml/transform/output")
    output_dir.mkdir(parents=True, exist_ok=True)
    count = download_prefix(clients.s3, source.get("S3Uri", ""), input_dir)
    job.log(f"Input: {count} object(s) from {source.get('S3Uri')}")
    job.check_stopped()

    transform_output = record.get("TransformOutput") or {}
    config = {
        "files": sorted(path.relative_to(input_dir).as_posix() for path in input_dir.rglob("*") if path.is_file()),
        "mode": "script" if program else algorithm,  # xgboost, knn, linear-learner or kmeans otherwise
        "program": program,
        "content_type": transform_input.get("ContentType", ""),
        "accept": transform_output.get("Accept", ""),
        "split_type": split_type,
        "batch_strategy": record.get("BatchStrategy", "MultiRecord"),
        "max_payload_mb": record.get("MaxPayloadInMB", DEFAULT_MAX_PAYLOAD_MB),
        "assemble_with": transform_output.get("AssembleWith", "None"),
        "data_processing": {
            "input_filter": (record.get("DataProcessing") or {}).get("InputFilter") or "$",
            "join_source": (record.get("DataProcessing") or {}).get("JoinSource") or "None",
            "output_filter": (record.get("DataProcessing") or {}).get("OutputFilter") or "$",
        },
    }
    (sandbox.host_path("/opt/ml/transform") / "config.json").write_text(json.dumps(config))
    job.run([sys.executable, str(BATCH_CONTAINER), "/opt/ml"], {key: str(value) for key, value in environment.items()},
            MAX_RUNTIME_SECONDS)

    output_path = transform_output.get("S3OutputPath", "")
    for path in sorted(output_dir.rglob("*")):
        if path.is_file():
            upload_file(clients.s3, path, join_uri(output_path, path.relative_to(output_dir).as_posix()))
    job.log(f"Output: {len(config['files'])} object(s) to {output_path}")
    return {}


def _model_container(sagemaker: Any, model_name: str) -> dict[str, Any]:
    try:
        model = sagemaker.describe_model(ModelName=model_name)
    except ClientError as error:
        raise StepFailure(f"ModelName '{model_name}': {error.response['Error'].get('Message')}") from None
    container = model.get("PrimaryContainer") or (model.get("Containers") or [{}])[0]
    if container.get("ModelPackageName"):  # a model made from a registered package runs the package's container
        try:
            package = sagemaker.describe_model_package(ModelPackageName=container["ModelPackageName"])
        except ClientError as error:
            raise StepFailure(f"Model '{model_name}': {error.response['Error'].get('Message')}") from None
        packaged = dict(((package.get("InferenceSpecification") or {}).get("Containers") or [{}])[0])
        packaged["Environment"] = {**(packaged.get("Environment") or {}), **(container.get("Environment") or {})}
        container = packaged
    if not container.get("ModelDataUrl"):
        raise StepFailure(f"Model '{model_name}' has no ModelDataUrl: the local endpoint needs the model artifacts")
    return container


def _extract(s3: Any, uri: str | None, destination: Path, job: ContainerJob) -> None:
    archive = job.folder / "model.tar.gz"
    _download(s3, str(uri), archive, "ModelDataUrl")
    destination.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(archive) as bundle:
            bundle.extractall(destination, filter="data")
    except tarfile.TarError as error:
        raise StepFailure(f"ModelDataUrl {uri} is not a tar.gz archive: {error}") from None
    job.log(f"Model artifacts: {uri}")


def _stage_code(s3: Any, submit_directory: str, destination: Path, job: ContainerJob) -> None:
    destination.mkdir(parents=True, exist_ok=True)
    if not submit_directory.startswith("s3://"):
        return  # the code travels in model.tar.gz (code/), where the serving toolkit finds it too
    archive = job.folder / "sourcedir.tar.gz"
    _download(s3, submit_directory, archive, "SAGEMAKER_SUBMIT_DIRECTORY")
    with tarfile.open(archive) as bundle:
        bundle.extractall(destination, filter="data")


def _download(s3: Any, uri: str, target: Path, field: str) -> None:
    bucket, key = split_s3_uri(uri)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        s3.download_file(bucket, key, str(target))
    except ClientError as error:
        raise StepFailure(f"{field} {uri} cannot be read: {error.response['Error'].get('Message')}") from None
