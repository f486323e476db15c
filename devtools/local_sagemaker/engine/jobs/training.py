"""Training jobs: CreateTrainingJob's contract, run on a local process.

The built-in XGBoost algorithm image is emulated by containers/xgboost_algorithm.py, the KNN,
Linear Learner and K-Means images (builtin_algorithms.py) by containers/first_party_algorithms.py; any
other image runs the SageMaker training toolkit's script-mode contract (SM_* variables,
hyperparameters as arguments, the submitted code) or the job's own ContainerEntrypoint.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import sys
import tarfile
from pathlib import Path
from typing import Any

from ..builtin_algorithms import EMULATED_IMAGES, FIRST_PARTY_ALGORITHMS, XGBOOST, builtin_algorithm
from ..errors import StepFailure
from ..job_store import now
from ..s3_transfer import download_prefix, join_uri, split_s3_uri, upload_file
from .container import ContainerJob, python_command
from .lifecycle import JobRun

# gzip's own default, as `tar -czf` in a container writes it; tarfile's default (9) costs ~10x the time.
GZIP_LEVEL = 6
XGBOOST_CONTAINER = Path(__file__).resolve().parents[2] / "containers" / "xgboost_algorithm.py"
FIRST_PARTY_CONTAINER = Path(__file__).resolve().parents[2] / "containers" / "first_party_algorithms.py"
_NUMBER = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"
# The built-in algorithm's per-round line: [12]#011train-auc:0.93#011validation-auc:0.91
_XGBOOST_ROUND = re.compile(r"\[\d+\](.*)")
_XGBOOST_METRIC = re.compile(r"(?:#011|\t)(train|validation)-([A-Za-z0-9@_\-]+):" + _NUMBER)
# The first-party algorithms' metric line: #quality_metric: host=algo-1, test accuracy <score>=0.93
_QUALITY_METRIC = re.compile(r"#quality_metric: host=\S+, (train|validation|test) (\w+) <(?:score|loss)>=" + _NUMBER)


REQUEST_FIELDS = ("AlgorithmSpecification", "HyperParameters", "InputDataConfig", "OutputDataConfig", "ResourceConfig",
                  "StoppingCondition", "Environment", "RoleArn", "VpcConfig", "CheckpointConfig", "DebugHookConfig",
                  "DebugRuleConfigurations", "EnableNetworkIsolation", "ExperimentConfig", "Tags")
DEFAULT_MAX_RUNTIME = 86400
CURRENT_HOST = "algo-1"
# The group SageMaker names when a request gives InstanceType rather than InstanceGroups.
HOMOGENEOUS_CLUSTER = "homogeneousCluster"


def training_request(arguments: dict[str, Any]) -> dict[str, Any]:
    """The fields of CreateTrainingJob a job record keeps; hyperparameters as the strings they are."""
    request = {key: arguments[key] for key in REQUEST_FIELDS if arguments.get(key) is not None}
    request["HyperParameters"] = {k: str(v) for k, v in (request.get("HyperParameters") or {}).items()}
    request.setdefault("InputDataConfig", [])
    request.setdefault("StoppingCondition", {"MaxRuntimeInSeconds": DEFAULT_MAX_RUNTIME})
    return request


def run_training_job(job: JobRun) -> dict[str, Any]:
    """Run the job to its end and return its description."""

    def work(run: JobRun) -> dict[str, Any]:
        artifacts, metrics = _run(run)
        ended = now()
        return {
            "ModelArtifacts": {"S3ModelArtifacts": artifacts},
            "FinalMetricDataList": [{"MetricName": k, "Value": v, "Timestamp": ended} for k, v in metrics.items()],
        }

    return job.execute(work)


def _run(run: JobRun) -> tuple[str, dict[str, float]]:
    record = run.record
    s3 = run.context.clients.s3
    algorithm = record.get("AlgorithmSpecification", {})
    image = algorithm.get("TrainingImage") or ""
    hyperparameters = record.get("HyperParameters", {})
    job = ContainerJob(run)
    sandbox = job.sandbox
    for folder in ("input/config", "model", "output/data", "code"):
        sandbox.host_path(f"/opt/ml/{folder}").mkdir(parents=True, exist_ok=True)
    argv, environment = _command(s3, job, image, algorithm, hyperparameters)
    run.secondary("Downloading")

    channels: dict[str, Any] = {}
    for channel in record.get("InputDataConfig", []):
        channel_name = channel["ChannelName"]
        source = (channel.get("DataSource") or {}).get("S3DataSource")
        if not source:
            raise StepFailure(f"Channel '{channel_name}': only S3DataSource is supported")
        count = download_prefix(s3, source["S3Uri"], sandbox.host_path(f"/opt/ml/input/data/{channel_name}"))
        job.log(f"Channel {channel_name}: {count} object(s) from {source['S3Uri']}")
        channels[channel_name] = {key: channel[key] for key in ("ContentType", "TrainingInputMode", "CompressionType", "RecordWrapperType") if key in channel}
        channels[channel_name].setdefault("TrainingInputMode", algorithm.get("TrainingInputMode", "File"))
        job.check_stopped()
    config = sandbox.host_path("/opt/ml/input/config")
    (config / "hyperparameters.json").write_text(json.dumps(hyperparameters))
    (config / "inputdataconfig.json").write_text(json.dumps(channels))
    resources = resource_config(record.get("ResourceConfig") or {})
    (config / "resourceconfig.json").write_text(json.dumps(resources))
    environment.update(_toolkit_environment(list(channels), hyperparameters, record, resources))
    run.secondary("Training")

    job.run(argv, environment, record["StoppingCondition"].get("MaxRuntimeInSeconds"))
    metrics = _final_metrics(job.process.log_file.read_text(), algorithm, image)
    run.secondary("Uploading")
    return _upload_model(s3, job, record), metrics


def resource_config(request: dict[str, Any]) -> dict[str, Any]:
    """/opt/ml/input/config/resourceconfig.json as SageMaker writes it for the one host the endpoint runs.

    Every field is there: SDK v3's container driver (sagemaker/train/container_drivers/scripts/environment.py)
    reads current_instance_type, and heterogeneous-cluster code reads the groups.
    """
    groups = request.get("InstanceGroups") or []
    if groups:  # a heterogeneous cluster's request: the one host belongs to its first group
        group_name = str(groups[0].get("InstanceGroupName") or "")
        instance_type = str(groups[0].get("InstanceType") or "")
    else:
        group_name, instance_type = HOMOGENEOUS_CLUSTER, str(request.get("InstanceType") or "")
    return {
        "current_host": CURRENT_HOST,
        "hosts": [CURRENT_HOST],
        "current_instance_type": instance_type,
        "current_group_name": group_name,
        "instance_groups": [{"instance_group_name": group_name, "instance_type": instance_type, "hosts": [CURRENT_HOST]}],
        "network_interface_name": "eth0",
    }


def _command(s3: Any, job: ContainerJob, image: str, algorithm: dict[str, Any], hyperparameters: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    entrypoint = algorithm.get("ContainerEntrypoint") or []
    program = hyperparameters.get("sagemaker_program")
    if entrypoint:
        return python_command([*entrypoint, *(algorithm.get("ContainerArguments") or [])]), {}
    if program:
        return _script_mode(s3, job, json.loads(program) if program.startswith('"') else program, hyperparameters)
    algorithm_name = builtin_algorithm(image)
    if algorithm_name == XGBOOST:
        job.log(f"Image {image}: emulating the built-in XGBoost algorithm with xgboost {_xgboost_version()}")
        return [sys.executable, str(XGBOOST_CONTAINER), "/opt/ml"], {}
    if algorithm_name in FIRST_PARTY_ALGORITHMS:
        job.log(f"Image {image}: emulating the built-in {algorithm_name} algorithm with scikit-learn {_sklearn_version()}")
        return [sys.executable, str(FIRST_PARTY_CONTAINER), "/opt/ml", algorithm_name], {}
    raise StepFailure(
        f"Image '{image}' cannot be emulated by the local endpoint: it runs {EMULATED_IMAGES} "
        "and script-mode jobs (sagemaker_program or ContainerEntrypoint)"
    )


def _script_mode(s3: Any, job: ContainerJob, program: str, hyperparameters: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """The training toolkit's contract: code from sagemaker_submit_directory, `python program --hp v`."""
    submit = hyperparameters.get("sagemaker_submit_directory", "")
    submit = json.loads(submit) if submit.startswith('"') else submit
    code_dir = job.sandbox.host_path("/opt/ml/code")
    if submit.startswith("s3://"):
        archive = job.folder / "sourcedir.tar.gz"
        bucket, key = split_s3_uri(submit)
        try:
            s3.download_file(bucket, key, str(archive))
        except Exception as error:
            raise StepFailure(f"Cannot download sagemaker_submit_directory {submit}: {error}") from None
        with tarfile.open(archive) as bundle:
            bundle.extractall(code_dir, filter="data")
    if not (code_dir / program).is_file():
        raise StepFailure(f"sagemaker_program '{program}' is not in the submitted code ({submit or 'none'})")
    arguments: list[str] = []
    for key, value in hyperparameters.items():
        if not key.startswith("sagemaker_"):
            arguments += [f"--{key}", _decode(value)]
    return [sys.executable, f"/opt/ml/code/{program}", *arguments], {"SM_USER_ENTRY_POINT": program, "SM_MODULE_DIR": submit}


def _decode(value: str) -> str:
    try:
        decoded = json.loads(value)
    except ValueError:
        return value
    return decoded if isinstance(decoded, str) else json.dumps(decoded)


def _toolkit_environment(channels: list[str], hyperparameters: dict[str, str], record: dict[str, Any],
                         resources: dict[str, Any]) -> dict[str, str]:
    user_hps = {k: _decode(v) for k, v in hyperparameters.items() if not k.startswith("sagemaker_")}
    environment = {
        "SM_MODEL_DIR": "/opt/ml/model",
        "SM_INPUT_DIR": "/opt/ml/input",
        "SM_INPUT_CONFIG_DIR": "/opt/ml/input/config",
        "SM_OUTPUT_DIR": "/opt/ml/output",
        "SM_OUTPUT_DATA_DIR": "/opt/ml/output/data",
        "SM_CHANNELS": json.dumps(channels),
        "SM_HPS": json.dumps(user_hps),
        "SM_HOSTS": json.dumps(resources["hosts"]),
        "SM_CURRENT_HOST": resources["current_host"],
        "SM_CURRENT_INSTANCE_TYPE": resources["current_instance_type"],
        "SM_CURRENT_INSTANCE_GROUP": resources["current_group_name"],
        "SM_NETWORK_INTERFACE_NAME": resources["network_interface_name"],
        "SM_RESOURCE_CONFIG": json.dumps(resources),
        "SM_NUM_GPUS": "0",
        "SM_NUM_CPUS": str(_cpu_count()),
        "TRAINING_JOB_NAME": record["TrainingJobName"],
    }
    environment.update({f"SM_CHANNEL_{c.upper()}": f"/opt/ml/input/data/{c}" for c in channels})
    environment.update({f"SM_HP_{k.upper()}": v for k, v in user_hps.items()})
    environment.update({k: str(v) for k, v in (record.get("Environment") or {}).items()})
    return environment


def _cpu_count() -> int:
    return os.cpu_count() or 1


@functools.cache
def _xgboost_version() -> str:
    from importlib.metadata import version

    return version("xgboost")


@functools.cache
def _sklearn_version() -> str:
    from importlib.metadata import version

    return version("scikit-learn")


def _final_metrics(log: str, algorithm: dict[str, Any], image: str) -> dict[str, float]:
    """The last value of each metric, from the metric definitions or the algorithm's lines."""
    metrics: dict[str, float] = {}
    definitions = algorithm.get("MetricDefinitions") or []
    algorithm_name = builtin_algorithm(image)
    for line in log.splitlines():
        for definition in definitions:
            match = re.search(definition["Regex"], line)
            if match:
                metrics[definition["Name"]] = float(match.group(1))
        if definitions:
            continue
        if algorithm_name == XGBOOST and _XGBOOST_ROUND.match(line):
            for channel, metric, value in _XGBOOST_METRIC.findall(line):
                metrics[f"{channel}:{metric}"] = float(value)
        elif algorithm_name in FIRST_PARTY_ALGORITHMS:
            quality = _QUALITY_METRIC.match(line)
            if quality:
                metrics[f"{quality.group(1)}:{quality.group(2)}"] = float(quality.group(3))
    return metrics


def _upload_model(s3: Any, job: ContainerJob, record: dict[str, Any]) -> str:
    output_path = record["OutputDataConfig"].get("S3OutputPath")
    if not output_path:
        raise StepFailure("OutputDataConfig.S3OutputPath is required")
    model_dir = job.sandbox.host_path("/opt/ml/model")
    archive = job.folder / "model.tar.gz"
    with tarfile.open(archive, "w:gz", compresslevel=GZIP_LEVEL) as bundle:
        for path in sorted(model_dir.rglob("*")):
            bundle.add(path, arcname=path.relative_to(model_dir).as_posix(), recursive=False)
    destination = join_uri(output_path, record["TrainingJobName"], "output", "model.tar.gz")
    upload_file(s3, archive, destination)
    output_data = job.sandbox.host_path("/opt/ml/output/data")
    if any(output_data.iterdir()):
        data_archive = job.folder / "output.tar.gz"
        with tarfile.open(data_archive, "w:gz", compresslevel=GZIP_LEVEL) as bundle:
            bundle.add(output_data, arcname=".")
        upload_file(s3, data_archive, join_uri(output_path, record["TrainingJobName"], "output", "output.tar.gz"))
    job.log(f"Model artifacts: {destination}")
    shutil.rmtree(job.sandbox.host_path("/opt/ml/input/data"), ignore_errors=True)
    return destination
