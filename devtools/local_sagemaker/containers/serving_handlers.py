"""What a serving container does with one invocation: the contracts of the images the endpoint emulates.

- The built-in XGBoost algorithm (sagemaker-xgboost, algorithm mode): the model is the first
  file in /opt/ml/model (`xgboost-model`), a pickled Booster or xgboost's own format; requests
  are text/csv rows without the label, or text/libsvm (text/x-libsvm); the answer is one score
  per line (text/csv, the default), `{"predictions": [{"score": s}, ...]}` (application/json)
  or one `{"score": s}` per line (application/jsonlines). A content type it cannot read is 415,
  an Accept it cannot write 406, a payload the model cannot score 400, in the container's words.
- The built-in KNN, Linear Learner and K-Means algorithms (FirstPartyAlgorithm): text/csv or
  application/json in, `{"predictions": [...]}` with each algorithm's own fields out.
- Script mode (the scikit-learn and XGBoost framework images, SAGEMAKER_PROGRAM): the inference
  toolkit's handlers `model_fn(model_dir)`, then `input_fn(body, content_type)`,
  `predict_fn(data, model)`, `output_fn(prediction, accept)` (or one `transform_fn`); missing
  ones are the toolkit's defaults (JSON, CSV and NPY in and out; `model.predict`). An exception
  in the user's code is a 500 whose body is the error and its traceback, as the toolkit answers.

Runs inside the serving process (containers/model_server.py), imported by name, never by the
endpoint itself: it loads numpy, xgboost and the user's code.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import pickle
import sys
import traceback
from pathlib import Path
from typing import Any

CSV, JSON, JSONLINES, NPY = "text/csv", "application/json", "application/jsonlines", "application/x-npy"
RECORDIO = "application/x-recordio-protobuf"
LIBSVM_TYPES = ("text/libsvm", "text/x-libsvm")
XGBOOST_ACCEPTS = (JSON, JSONLINES, "application/x-recordio-protobuf", CSV)
TOOLKIT_TYPES = (JSON, CSV, NPY)
UTF8_TYPES = (JSON, CSV)


class InvocationError(Exception):
    """The container's answer to a request it cannot serve: an HTTP status and a message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class ModelLoadError(Exception):
    """The model cannot be loaded: the instance never passes its health check."""


def media_type(header: str | None) -> str:
    """`text/csv; charset=utf-8` -> `text/csv`."""
    return (header or "").split(";")[0].strip().lower()


def _float_text(value: Any) -> str:
    return repr(float(value)) if isinstance(value, float) else str(value)


class XGBoostAlgorithm:
    """The built-in algorithm's serving contract (sagemaker-xgboost-container, algorithm_mode/serve.py)."""

    def __init__(self, model_dir: Path) -> None:
        import xgboost as xgb

        files = sorted(path for path in model_dir.iterdir() if path.is_file() and not path.name.startswith("."))
        if not files:
            raise ModelLoadError(f"no model file in model.tar.gz (expected xgboost-model); it holds {sorted(os.listdir(model_dir))}")
        path = model_dir / "xgboost-model" if (model_dir / "xgboost-model").is_file() else files[0]
        try:
            with path.open("rb") as handle:
                booster = pickle.load(handle)
        except Exception as pickle_error:
            booster = xgb.Booster()
            try:
                booster.load_model(str(path))
            except Exception as xgboost_error:
                raise ModelLoadError(f"Model {path.name} cannot be loaded: pickle: {pickle_error}; "
                                     f"xgboost: {str(xgboost_error).splitlines()[0]}") from None
        booster.set_param("nthread", 1)  # as the container: one thread per worker, requests run side by side
        self.booster = booster
        self.default_accept = os.environ.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT", CSV)

    def invoke(self, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
        if not body:
            raise InvocationError(204, "")
        matrix = self._decode(body, content_type)
        try:
            predictions = self.booster.predict(matrix, validate_features=False)
        except Exception as error:
            raise InvocationError(400, f"Unable to evaluate payload provided: {error}") from None
        accept_type = media_type(accept)
        if not accept_type or accept_type == "*/*":
            accept_type = self.default_accept
        if accept_type not in XGBOOST_ACCEPTS:
            raise InvocationError(406, f"Accept type {accept} is not supported. Please use supported accept types: "
                                       f"{list(XGBOOST_ACCEPTS)}.")
        values = predictions.tolist()
        if accept_type == JSON:
            return json.dumps({"predictions": [{"score": value} for value in values]}).encode(), JSON
        if accept_type == JSONLINES:
            return "".join(json.dumps({"score": value}) + "\n" for value in values).encode(), JSONLINES
        if accept_type == CSV:
            rows = (",".join(map(_float_text, row)) if isinstance(row, list) else _float_text(row) for row in values)
            return "".join(row + "\n" for row in rows).encode(), CSV
        raise InvocationError(406, f"Accept type {accept_type} is not emulated by the local endpoint: use {CSV}, {JSON} "
                                   f"or {JSONLINES}.")

    def _decode(self, body: bytes, content_type: str) -> Any:
        import xgboost as xgb

        kind = media_type(content_type)
        if kind in (CSV, "csv"):
            try:
                return xgb.DMatrix(_csv_rows(body), nthread=1)  # one request, one thread: no OpenMP spin
            except Exception as error:
                raise InvocationError(415, "Loading csv data failed with Exception, please ensure data is in csv format:\n"
                                           f" {type(error)}\n {error}") from None
        if kind in LIBSVM_TYPES or kind == "libsvm":
            try:
                return xgb.DMatrix(_libsvm_matrix(body.strip().decode("utf-8"), self.booster.num_features()), nthread=1)
            except Exception as error:
                raise InvocationError(415, "Loading libsvm data failed with Exception, please ensure data is in libsvm "
                                           f"format:\n {type(error)}\n {error}") from None
        raise InvocationError(415, f"Content-type {content_type} is not supported.")


def _csv_rows(body: bytes) -> Any:
    """Numeric CSV rows as float64, as the container reads them (an empty field is NaN).

    numpy's C parser first (6x faster on 1,000 rows); rows it refuses (empty fields) are read the
    container's way, value by value, which also names what is wrong.
    """
    import numpy as np

    try:
        return np.loadtxt(io.BytesIO(body.strip()), delimiter=",", dtype=float, ndmin=2)
    except ValueError:
        rows = [["nan" if value == "" else value for value in line.split(",")]
                for line in body.strip().decode("utf-8").split("\n")]
        return np.array(rows).astype(float)


def _libsvm_matrix(text: str, features: int) -> Any:
    """`label i:v i:v` lines as a sparse matrix; 1-based indices shift to 0-based, as the container does."""
    import numpy as np
    from scipy.sparse import csr_matrix

    rows, columns, values = [], [], []
    for row, line in enumerate(text.split("\n")):
        for item in line.split():
            if ":" in item:
                index, value = item.split(":", 1)
                rows.append(row)
                columns.append(int(index))
                values.append(float(value))
    column_array = np.array(columns, dtype=int)
    if len(column_array) and column_array.min() >= 1:
        column_array -= 1
    width = max(features, int(column_array.max()) + 1 if len(column_array) else 0)
    return csr_matrix((np.array(values), (np.array(rows, dtype=int), column_array)),
                      shape=(text.count("\n") + 1, width))


class FirstPartyAlgorithm:
    """The KNN, Linear Learner and K-Means algorithms' serving contract (SageMaker's common inference formats).

    The model is /opt/ml/model/model_algo-1 as containers/first_party_algorithms.py writes it. Requests
    are text/csv rows of features (no label) or application/json `{"instances": [{"features": [...]}]}`;
    the answer is `{"predictions": [...]}` (application/json, the default) or one prediction per line
    (application/jsonlines), each with the algorithm's own fields: `predicted_label` (KNN), `score` and,
    for a classifier, `predicted_label` (Linear Learner), `closest_cluster` and `distance_to_cluster`
    (K-Means). RecordIO-protobuf, in or out, is not emulated: 415 or 406 saying so.
    """

    MODEL_FILE = "model_algo-1"
    ACCEPTS = (JSON, JSONLINES)

    def __init__(self, model_dir: Path, algorithm: str) -> None:
        path = model_dir / self.MODEL_FILE
        if not path.is_file():
            raise ModelLoadError(f"no {self.MODEL_FILE} in model.tar.gz; it holds {sorted(os.listdir(model_dir))}")
        try:
            with path.open("rb") as handle:
                model = pickle.load(handle)
        except Exception as error:
            raise ModelLoadError(f"{self.MODEL_FILE} cannot be loaded ({type(error).__name__}: {error}): the local endpoint "
                                 f"serves the {algorithm} models it trained itself, not AWS's") from None
        if not isinstance(model, dict) or model.get("algorithm") != algorithm:
            found = model.get("algorithm") if isinstance(model, dict) else type(model).__name__
            raise ModelLoadError(f"{self.MODEL_FILE} holds a {found} model, not a {algorithm} model as the image says")
        self.algorithm = algorithm
        self.estimator = model["estimator"]
        self.predictor_type = model.get("predictor_type", "")
        self.feature_dim = int(model["feature_dim"])
        self.default_accept = os.environ.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT", JSON)

    def invoke(self, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
        accept_type = media_type(accept)
        if not accept_type or accept_type == "*/*":
            accept_type = self.default_accept
        if accept_type not in self.ACCEPTS:
            emulated = " (RecordIO-protobuf is not emulated by the local endpoint)" if accept_type == RECORDIO else ""
            raise InvocationError(406, f"Accept type {accept} is not supported by the {self.algorithm} algorithm{emulated}: "
                                       f"use {' or '.join(self.ACCEPTS)}.")
        if not body.strip():
            raise InvocationError(400, "Unable to evaluate payload provided: the payload is empty")
        predictions = self.predictions(self._decode(body, content_type))
        if accept_type == JSONLINES:
            return "".join(json.dumps(item) + "\n" for item in predictions).encode(), JSONLINES
        return json.dumps({"predictions": predictions}).encode(), JSON

    def predictions(self, features: Any) -> list[dict[str, Any]]:
        import numpy as np

        if self.algorithm == "knn":
            return [{"predicted_label": float(label)} for label in self.estimator.predict(features)]
        if self.algorithm == "kmeans":
            distances = self.estimator.transform(features)
            closest = distances.argmin(axis=1)
            return [{"closest_cluster": float(cluster), "distance_to_cluster": float(distances[row, cluster])}
                    for row, cluster in enumerate(closest)]
        if self.predictor_type == "regressor":
            return [{"score": float(score)} for score in self.estimator.predict(features)]
        probabilities = self.estimator.predict_proba(features)
        classes = np.asarray(self.estimator.classes_)
        if self.predictor_type == "binary_classifier":
            positive = probabilities[:, list(classes).index(1)] if 1 in classes else np.zeros(len(probabilities))
            return [{"score": float(score), "predicted_label": int(score >= 0.5)} for score in positive]
        return [{"score": [float(p) for p in row], "predicted_label": int(classes[row.argmax()])} for row in probabilities]

    def _decode(self, body: bytes, content_type: str) -> Any:
        import numpy as np

        kind = media_type(content_type)
        try:
            if kind in (CSV, "csv"):
                rows = _csv_rows(body)
            elif kind == JSON:
                document = json.loads(body)
                instances = document.get("instances", [document]) if isinstance(document, dict) else document
                rows = np.array([item["features"] if isinstance(item, dict) else item for item in instances], dtype=float)
            elif kind == RECORDIO:
                raise InvocationError(415, f"Content type {content_type} (RecordIO-protobuf) is not emulated by the local "
                                           f"endpoint: send {CSV} or {JSON}.")
            else:
                raise InvocationError(415, f"Content type {content_type} is not supported by the {self.algorithm} "
                                           f"algorithm: send {CSV} or {JSON}.")
        except InvocationError:
            raise
        except Exception as error:
            raise InvocationError(400, f"Unable to parse the {kind} payload: {type(error).__name__}: {error}") from None
        rows = np.atleast_2d(rows)
        if rows.shape[1] != self.feature_dim or np.isnan(rows).any():
            raise InvocationError(400, f"Unable to evaluate payload provided: records have {rows.shape[1]} feature(s) "
                                       f"(no empty ones allowed), the model was trained on {self.feature_dim} "
                                       "(records for inference have no label column)")
        return rows


class ScriptHandlers:
    """The inference toolkit's contract for a user's `inference.py` (sagemaker_inference/transformer.py)."""

    def __init__(self, root: Path, program: str) -> None:
        code_dirs = [root / "model" / "code", root / "code"]
        folder = next((folder for folder in code_dirs if (folder / program).is_file()), None)
        if folder is None:
            raise ModelLoadError(f"SAGEMAKER_PROGRAM '{program}' is neither in model.tar.gz code/ nor in "
                                 "SAGEMAKER_SUBMIT_DIRECTORY")
        sys.path.insert(0, str(folder))
        try:
            module = importlib.import_module(program[:-3] if program.endswith(".py") else program)
        except Exception as error:
            raise ModelLoadError(f"Cannot import {program}: {type(error).__name__}: {error}\n"
                                 f"{traceback.format_exc()}") from None
        self.transform_fn = getattr(module, "transform_fn", None)
        handlers = {name: getattr(module, name, None) for name in ("input_fn", "predict_fn", "output_fn")}
        if self.transform_fn and any(handlers.values()):
            raise ModelLoadError("Cannot use transform_fn implementation in conjunction with input_fn, predict_fn, "
                                 "and/or output_fn implementation")
        self.input_fn = handlers["input_fn"] or _default_input_fn
        self.predict_fn = handlers["predict_fn"] or _default_predict_fn
        self.output_fn = handlers["output_fn"] or _default_output_fn
        model_fn = getattr(module, "model_fn", None)
        if model_fn is None:
            raise ModelLoadError(f"{program} defines no model_fn(model_dir): please provide a model_fn implementation")
        try:
            self.model = model_fn(str(root / "model"))
        except Exception as error:
            raise ModelLoadError(f"model_fn failed: {type(error).__name__}: {error}\n{traceback.format_exc()}") from None
        self.default_accept = os.environ.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT", JSON)

    def invoke(self, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
        kind = media_type(content_type)
        if not accept or media_type(accept) == "*/*":
            accept = self.default_accept
        data: Any = body.decode("utf-8") if kind in UTF8_TYPES else body
        try:
            if self.transform_fn:
                result = self.transform_fn(self.model, data, content_type, accept)
            else:
                result = self.output_fn(self.predict_fn(self.input_fn(data, content_type), self.model), accept)
        except InvocationError:
            raise
        except Exception as error:
            status = getattr(error, "status_code", 500)  # the toolkit's BaseInferenceToolkitError carries its own
            message = getattr(error, "message", None) or str(error)
            raise InvocationError(int(status), f"{message}\n{traceback.format_exc()}") from None
        response_type = accept
        if isinstance(result, tuple):
            result, response_type = result[0], result[1]
        return (result.encode() if isinstance(result, str) else bytes(result)), response_type


def _unsupported(content_type: str) -> InvocationError:
    return InvocationError(415, f"Content type {content_type} is not supported by this framework.\n\n"
                                "Please implement input_fn to to deserialize the request data or an output_fn to\n"
                                "serialize the response. For more information, see the SageMaker Python SDK README.")


def _default_input_fn(data: Any, content_type: str) -> Any:
    import numpy as np

    kind = media_type(content_type)
    if kind == JSON:
        return np.array(json.loads(data))
    if kind == CSV:
        return np.genfromtxt(io.StringIO(data), delimiter=",")
    if kind == NPY:
        return np.load(io.BytesIO(data), allow_pickle=True)
    raise _unsupported(content_type)


def _default_predict_fn(data: Any, model: Any) -> Any:
    if type(model).__name__ == "Booster":  # the XGBoost framework image's default
        import xgboost as xgb

        return model.predict(xgb.DMatrix(data))
    return model.predict(data)


def _default_output_fn(prediction: Any, accept: str) -> tuple[bytes | str, str]:
    import numpy as np

    for candidate in (media_type(part) for part in accept.split(",")):
        if candidate == JSON:
            return json.dumps(np.asarray(prediction).tolist()), JSON
        if candidate == CSV:
            stream = io.StringIO()
            np.savetxt(stream, np.asarray(prediction), delimiter=",", fmt="%s")
            return stream.getvalue(), CSV
        if candidate == NPY:
            buffer = io.BytesIO()
            np.save(buffer, np.asarray(prediction))
            return buffer.getvalue(), NPY
    raise _unsupported(accept)
