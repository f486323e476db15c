"""Models, deployments and process look-ups the real-time endpoint tests share."""

from __future__ import annotations

import io
import pickle
import tarfile
import time
from typing import Any

import numpy as np

from tests.support.pipelines import ROLE, SKLEARN_IMAGE, XGBOOST_IMAGE, unique

from .endpoint_process import processes_whose_cmdline_has

# The serving tests take the shared names from here: one import to follow if the pipeline helpers move.
__all__ = ["ROLE", "SKLEARN_IMAGE", "XGBOOST_IMAGE", "unique"]

FEATURES = 4
SERVER_SCRIPT = "model_server.py"


def rows(count: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(count, FEATURES))


def csv_body(values: np.ndarray) -> bytes:
    return "\n".join(",".join(f"{value:.6f}" for value in row) for row in values).encode()


def train_booster(seed: int, rounds: int = 10) -> Any:
    """A binary XGBoost model on 4 features; another seed gives other predictions."""
    import xgboost as xgb

    features = rows(400, seed)
    labels = (features[:, 0] + 0.5 * features[:, 1] * (1 if seed % 2 else -1) > 0).astype(int)
    return xgb.train({"objective": "binary:logistic", "max_depth": 3}, xgb.DMatrix(features, label=labels), rounds)


def tar_gz(files: dict[str, bytes]) -> bytes:
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as bundle:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            bundle.addfile(info, io.BytesIO(data))
    return archive.getvalue()


def put_artifact(s3: Any, bucket: str, files: dict[str, bytes] | bytes) -> str:
    """Upload a model.tar.gz (from `files`, or raw bytes as they are); its S3 URI."""
    key = f"models/{unique('artifact')}/model.tar.gz"
    s3.put_object(Bucket=bucket, Key=key, Body=files if isinstance(files, bytes) else tar_gz(files))
    return f"s3://{bucket}/{key}"


def xgboost_artifact(s3: Any, bucket: str, booster: Any) -> str:
    """The built-in algorithm's artifact: model.tar.gz holding `xgboost-model`, as a training job writes it."""
    return put_artifact(s3, bucket, {"xgboost-model": bytes(booster.save_raw("json"))})


def sklearn_script_artifact(s3: Any, bucket: str, model: Any, inference_py: str) -> str:
    """A script-mode artifact: the pickled estimator and code/inference.py, as ModelBuilder packs it."""
    return put_artifact(s3, bucket, {"model.pkl": pickle.dumps(model), "code/inference.py": inference_py.encode()})


def deploy(sagemaker: Any, model_data: str, *, image: str = XGBOOST_IMAGE, environment: dict[str, str] | None = None,
           instance_count: int = 1, endpoint: str | None = None, wait: bool = True) -> str:
    """Model, config and endpoint for one artifact; the endpoint's name (InService when `wait`)."""
    model = create_model(sagemaker, model_data, image=image, environment=environment)
    config = create_config(sagemaker, [("AllTraffic", model, 1.0, instance_count)])
    name = endpoint or unique("endpoint")
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=config)
    if wait:
        description = wait_endpoint(sagemaker, name)
        assert description["EndpointStatus"] == "InService", description.get("FailureReason")
    return name


def create_model(sagemaker: Any, model_data: str, *, image: str = XGBOOST_IMAGE,
                 environment: dict[str, str] | None = None) -> str:
    name = unique("model")
    container: dict[str, Any] = {"Image": image, "ModelDataUrl": model_data}
    if environment:
        container["Environment"] = environment
    sagemaker.create_model(ModelName=name, ExecutionRoleArn=ROLE, PrimaryContainer=container)
    return name


def create_config(sagemaker: Any, variants: list[tuple[str, str, float, int]]) -> str:
    """An endpoint config of (variant name, model, weight, instance count)."""
    name = unique("config")
    sagemaker.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[
        {"VariantName": variant, "ModelName": model, "InitialVariantWeight": weight,
         "InitialInstanceCount": count, "InstanceType": "ml.m5.large"}
        for variant, model, weight, count in variants])
    return name


def wait_endpoint(sagemaker: Any, name: str, timeout: float = 120,
                  statuses: tuple[str, ...] = ("InService", "Failed")) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        description = sagemaker.describe_endpoint(EndpointName=name)
        if description["EndpointStatus"] in statuses:
            return description
        if time.monotonic() > deadline:
            raise TimeoutError(f"endpoint {name} still {description['EndpointStatus']} after {timeout} s")
        time.sleep(0.1)


def predictions(runtime: Any, name: str, body: bytes, **options: Any) -> list[float]:
    response = runtime.invoke_endpoint(EndpointName=name, Body=body, ContentType="text/csv", **options)
    return [float(line) for line in response["Body"].read().decode().splitlines()]


def in_process(booster: Any, body: bytes) -> list[float]:
    """What Booster.predict gives for the same CSV rows, parsed the same way (float64, then xgboost's float32)."""
    import xgboost as xgb

    values = np.array([line.split(",") for line in body.decode().splitlines()]).astype(float)
    return [float(value) for value in booster.predict(xgb.DMatrix(values))]


def listening_addresses(pid: int) -> list[tuple[str, int]]:
    """(address, port) of every TCP socket process `pid` listens on (its fds' inodes in /proc/net/tcp{,6})."""
    import ipaddress
    import os

    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        target = os.readlink(f"/proc/{pid}/fd/{fd}") if os.path.islink(f"/proc/{pid}/fd/{fd}") else ""
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    found = []
    for table in ("tcp", "tcp6"):
        with open(f"/proc/{pid}/net/{table}") as handle:
            for line in list(handle)[1:]:
                fields = line.split()
                if fields[3] != "0A" or fields[9] not in inodes:  # 0A: LISTEN
                    continue
                address, port = fields[1].split(":")
                raw = bytes.fromhex(address)
                # /proc/net/tcp holds the address as host-order 32-bit words
                ordered = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
                found.append((str(ipaddress.ip_address(ordered)), int(port, 16)))
    return found


def server_pids(endpoint_name: str) -> list[int]:
    """The live model server processes serving `endpoint_name` (Linux /proc: their command line and environment).

    Only `python model_server.py ...` itself: while a server starts, its sandbox's `unshare`/`sh -c`
    launcher and that shell's `$(...)` subshell carry the same arguments and environment."""
    marker = f"SAGEMAKER_ENDPOINT_NAME={endpoint_name}".encode()
    found = []
    for pid in processes_whose_cmdline_has(SERVER_SCRIPT):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                argv = handle.read().split(b"\0")
            with open(f"/proc/{pid}/environ", "rb") as handle:
                environment = handle.read().split(b"\0")
        except OSError:  # ended meanwhile
            continue
        if len(argv) > 1 and argv[1].endswith(SERVER_SCRIPT.encode()) and marker in environment:
            found.append(pid)
    return found

