"""A model container answering a batch transform job, run inside the job's sandbox.

Reads /opt/ml/transform/config.json (written by the engine), loads the model from
/opt/ml/model, and turns each input file under /opt/ml/transform/input into
/opt/ml/transform/output/<file>.out the way SageMaker's batch transform does: records split by
SplitType, requests of at most MaxPayloadInMB (MultiRecord) or of one record (SingleRecord),
responses joined by AssembleWith. The model is the built-in XGBoost algorithm (CSV rows without
the label, or libsvm; one prediction per line), the built-in KNN, Linear Learner or K-Means algorithm
(answered as its endpoint answers: JSON or JSON lines) or a script-mode model whose SAGEMAKER_PROGRAM
defines model_fn and optionally input_fn, predict_fn, output_fn. A request the model cannot
answer fails the job naming the file and the record. It runs as a plain script in a separate
process and imports nothing of the project but its neighbours in this folder.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

from container_run import ClientError, run_container
from data_processing import DataProcessing
from serving_handlers import FirstPartyAlgorithm, InvocationError, ModelLoadError

MEGABYTE = 1024 * 1024


class XGBoostModel:
    """The built-in algorithm's inference: text/csv (no label column) or text/libsvm."""

    def __init__(self, model_dir: Path) -> None:
        import xgboost as xgb

        files = [path for path in model_dir.iterdir() if path.is_file()]
        if not files:
            raise ClientError(f"model.tar.gz has no model file (expected xgboost-model); found {sorted(os.listdir(model_dir))}")
        self.booster = xgb.Booster()
        path = model_dir / "xgboost-model" if (model_dir / "xgboost-model").exists() else files[0]
        try:
            self.booster.load_model(str(path))
        except xgb.core.XGBoostError as error:
            raise ClientError(f"Cannot load the XGBoost model {path.name}: {error}") from None

    def invoke(self, body: bytes, content_type: str, accept: str, first_record: int, where: str) -> bytes:
        import numpy as np
        import xgboost as xgb

        kind = (content_type or "text/csv").split(";")[0].strip().lower()
        if kind in ("text/csv", "csv"):
            rows = []
            expected = self.booster.num_features()
            for offset, line in enumerate(body.decode("utf-8").splitlines()):
                if not line.strip():
                    continue
                record = f"{where}, record {first_record + offset + 1}"
                try:
                    values = [float(value) for value in line.split(",")]
                except ValueError:
                    raise ClientError(f"{record}: not a numeric CSV row: {line[:200]!r}") from None
                if len(values) != expected:
                    raise ClientError(
                        f"{record}: has {len(values)} feature(s), the model was trained on {expected} "
                        f"(CSV rows for inference have no label column): {line[:200]!r}"
                    )
                rows.append(values)
            matrix = xgb.DMatrix(np.array(rows, dtype=np.float32))
        elif kind in ("text/libsvm", "libsvm", "text/x-libsvm"):
            from sklearn.datasets import load_svmlight_file

            try:
                features, _ = load_svmlight_file(io.BytesIO(body), n_features=self.booster.num_features())
            except ValueError as error:
                raise ClientError(f"{where}, records from {first_record + 1}: not valid libsvm: {error}") from None
            matrix = xgb.DMatrix(features)
        else:
            raise ClientError(f"ContentType {content_type!r} is not supported by the XGBoost algorithm: use text/csv or text/libsvm")
        predictions = self.booster.predict(matrix)
        return "".join(f"{_number(value)}\n" for value in predictions.tolist()).encode()


class AlgorithmModel:
    """The built-in KNN, Linear Learner and K-Means algorithms: what their endpoint answers (serving_handlers.py)."""

    def __init__(self, model_dir: Path, algorithm: str) -> None:
        try:
            self.handler = FirstPartyAlgorithm(model_dir, algorithm)
        except ModelLoadError as error:
            raise ClientError(f"The {algorithm} model cannot be loaded: {error}") from None

    def invoke(self, body: bytes, content_type: str, accept: str, first_record: int, where: str) -> bytes:
        try:
            payload, _ = self.handler.invoke(body, content_type or "text/csv", accept)
        except InvocationError as error:
            raise ClientError(f"{where}, records from {first_record + 1}: {error.message}") from None
        return payload


class ScriptModel:
    """The serving toolkit's contract: model_fn(model_dir), input_fn, predict_fn, output_fn."""

    def __init__(self, root: Path, program: str) -> None:
        code_dirs = [root / "code", root / "model" / "code"]
        path = next((folder / program for folder in code_dirs if (folder / program).is_file()), None)
        if path is None:
            raise ClientError(f"SAGEMAKER_PROGRAM '{program}' is not in the submitted code nor in model.tar.gz code/")
        sys.path.insert(0, str(path.parent))
        spec = importlib.util.spec_from_file_location("user_module", path)
        assert spec and spec.loader
        self.module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(self.module)
        if not hasattr(self.module, "model_fn"):
            raise ClientError(f"{program} defines no model_fn(model_dir): the serving toolkit needs it to load the model")
        self.model = self.module.model_fn(str(root / "model"))

    def invoke(self, body: bytes, content_type: str, accept: str, first_record: int, where: str) -> bytes:
        try:
            data = getattr(self.module, "input_fn", _default_input)(body, content_type)
            prediction = getattr(self.module, "predict_fn", _default_predict)(data, self.model)
            output = getattr(self.module, "output_fn", _default_output)(prediction, accept or content_type)
        except ClientError:
            raise
        except Exception as error:
            raise ClientError(f"{where}, records from {first_record + 1}: the model failed: {type(error).__name__}: {error}") from None
        if isinstance(output, tuple):
            output = output[0]
        return output.encode() if isinstance(output, str) else bytes(output)


def _default_input(body: bytes, content_type: str) -> Any:
    import numpy as np

    kind = (content_type or "").split(";")[0].strip().lower()
    if kind == "text/csv":
        return np.atleast_2d(np.genfromtxt(io.BytesIO(body), delimiter=",", dtype=np.float64))
    if kind == "application/json":
        return np.array(json.loads(body))
    raise ClientError(f"ContentType {content_type!r} is not supported by the default input_fn: use text/csv or application/json")


def _default_predict(data: Any, model: Any) -> Any:
    return model.predict(data)


def _default_output(prediction: Any, accept: str) -> str:
    import numpy as np

    values = np.asarray(prediction).tolist()
    if (accept or "").split(";")[0].strip().lower() == "application/json":
        return json.dumps(values)
    rows = values if isinstance(values, list) else [values]
    return "".join((",".join(_number(v) for v in row) if isinstance(row, list) else _number(row)) + "\n" for row in rows)


def _number(value: Any) -> str:
    return repr(float(value)) if isinstance(value, float) else str(value)


def split_records(data: bytes, split_type: str) -> list[bytes]:
    if split_type == "Line":
        return [line + b"\n" for line in data.splitlines() if line.strip()]
    return [data]


def requests(records: list[bytes], strategy: str, max_payload: float, where: str) -> list[tuple[int, bytes]]:
    """(index of the first record, body) for each request the job sends."""
    limit = max_payload * MEGABYTE if max_payload else None  # 0: no limit (streaming)
    batches: list[tuple[int, bytes]] = []
    current: list[bytes] = []
    size = 0  # of `current`, kept as it grows (summing it per record made a batch quadratic)
    first = 0
    for index, record in enumerate(records):
        if limit is not None and len(record) > limit:
            raise ClientError(
                f"{where}, record {index + 1}: {len(record)} bytes is more than MaxPayloadInMB ({max_payload:g} MB); "
                "raise MaxPayloadInMB or split the input (SplitType Line)"
            )
        if current and (strategy == "SingleRecord" or (limit is not None and size + len(record) > limit)):
            batches.append((first, b"".join(current)))
            current, first, size = [], index, 0
        current.append(record)
        size += len(record)
    if current:
        batches.append((first, b"".join(current)))
    return batches


def _joined(processing: DataProcessing, records: list[bytes], batches: list[tuple[int, bytes]],
            responses: list[bytes], where: str) -> list[bytes]:
    """One output line per record: its prediction joined with it and filtered (DataProcessing)."""
    lines: list[bytes] = []
    for (first, body), response in zip(batches, responses, strict=True):
        count = body.count(b"\n")
        predictions = [line for line in response.splitlines() if line.strip()]
        if len(predictions) != count:
            raise ClientError(
                f"{where}, records from {first + 1}: the model answered {len(predictions)} line(s) for {count} record(s); "
                "DataProcessing needs one prediction line per record"
            )
        for offset, prediction in enumerate(predictions):
            lines.append(processing.finish(records[first + offset], prediction, f"{where}, record {first + offset + 1}"))
    return lines


def transform(root: Path) -> None:
    config = json.loads((root / "transform/config.json").read_text())
    model: XGBoostModel | AlgorithmModel | ScriptModel
    if config["mode"] == "script":
        model = ScriptModel(root, config["program"])
    elif config["mode"] == "xgboost":
        model = XGBoostModel(root / "model")
    else:  # knn, linear-learner, kmeans
        model = AlgorithmModel(root / "model", config["mode"])
    print(f"Model loaded ({config['mode']}); {len(config['files'])} input object(s)", flush=True)
    kind = (config["content_type"] or "").split(";")[0].strip().lower()
    processing = DataProcessing(**config["data_processing"], json_records=kind in ("application/json", "application/jsonlines"))
    if processing.active and config["split_type"] != "Line":
        raise ClientError("DataProcessing filters and joins records: it needs TransformInput.SplitType Line")
    for name in config["files"]:
        data = (root / "transform/input" / name).read_bytes()
        where = f"input object {name}"
        records = split_records(data, config["split_type"])
        sent = [processing.select_input(record, f"{where}, record {index + 1}") for index, record in enumerate(records)] \
            if processing.active else records
        batches = requests(sent, config["batch_strategy"], float(config["max_payload_mb"]), where)
        responses = [model.invoke(body, config["content_type"], config["accept"], first, where) for first, body in batches]
        if processing.active:
            output = b"".join(_joined(processing, records, batches, responses, where))
        elif config["assemble_with"] == "Line":
            output = b"".join(response if response.endswith(b"\n") else response + b"\n" for response in responses)
        else:
            output = b"".join(responses)
        target = root / "transform/output" / f"{name}.out"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(output)
        print(f"{name}: {len(responses)} request(s), {len(output)} bytes to {name}.out", flush=True)


if __name__ == "__main__":
    sys.exit(run_container(transform))
