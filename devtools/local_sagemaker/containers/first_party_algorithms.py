"""SageMaker's first-party KNN, Linear Learner and K-Means algorithms' training contract, run inside a job sandbox.

Usage: first_party_algorithms.py <root standing for /opt/ml> knn|linear-learner|kmeans

Reads /opt/ml/input/config/{hyperparameters,inputdataconfig}.json and the CSV channels under
/opt/ml/input/data (no header; the label first for KNN and Linear Learner, features only for
K-Means), checks the hyperparameters as the algorithms do (a required one missing, a value out of
its range, feature_dim against the data: the job fails naming the hyperparameter), fits the
scikit-learn model nearest to the algorithm, prints the algorithm's metrics the way its container
does (`#quality_metric: host=algo-1, test accuracy <score>=0.93`) and saves /opt/ml/model/model_algo-1.
That file is the emulator's own (a pickle serving_handlers.py reads), not AWS's MXNet parameters:
a model trained here serves here. RecordIO-protobuf (the algorithms' default content type) is not
emulated: such a channel fails the job saying so. Imports nothing of the project but its neighbours.
"""

from __future__ import annotations

import json
import pickle
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from container_run import ClientError, run_container

KNN, LINEAR_LEARNER, KMEANS = "knn", "linear-learner", "kmeans"
MODEL_FILE = "model_algo-1"  # the name AWS's containers give the model in model.tar.gz
RECORDIO = "application/x-recordio-protobuf"
HOST = "algo-1"


@dataclass(frozen=True)
class Hyperparameter:
    kind: type  # int, float or str
    required: bool = False
    choices: tuple[str, ...] = ()
    minimum: float | None = None


def _integer(minimum: int = 1, required: bool = False) -> Hyperparameter:
    return Hyperparameter(int, required=required, minimum=minimum)


# What each algorithm documents (only what the emulation reads, and the required ones, are checked).
HYPERPARAMETERS: dict[str, dict[str, Hyperparameter]] = {
    KNN: {
        "feature_dim": _integer(required=True),
        "k": _integer(required=True),
        "predictor_type": Hyperparameter(str, required=True, choices=("classifier", "regressor")),
        "sample_size": _integer(required=True),
        "index_metric": Hyperparameter(str, choices=("L2", "COSINE", "INNER_PRODUCT")),
        "mini_batch_size": _integer(),
    },
    LINEAR_LEARNER: {
        "predictor_type": Hyperparameter(str, required=True,
                                         choices=("binary_classifier", "multiclass_classifier", "regressor")),
        "feature_dim": Hyperparameter(str),  # an integer or "auto" (the default)
        "num_classes": _integer(minimum=3),
        "wd": Hyperparameter(float, minimum=0),
        "l1": Hyperparameter(float, minimum=0),
        "normalize_data": Hyperparameter(str, choices=("true", "false", "True", "False")),
        "epochs": _integer(),
        "mini_batch_size": _integer(),
    },
    KMEANS: {
        "k": _integer(required=True),
        "feature_dim": _integer(required=True),
        "init_method": Hyperparameter(str, choices=("random", "kmeans++")),
        "epochs": _integer(),
        "mini_batch_size": _integer(),
        "eval_metrics": Hyperparameter(str),
    },
}
CHANNELS = {KNN: ("train", "test"), LINEAR_LEARNER: ("train", "validation", "test"), KMEANS: ("train", "test")}
LABEL_FIRST = {KNN: True, LINEAR_LEARNER: True, KMEANS: False}


def read_hyperparameters(root: Path, algorithm: str) -> dict[str, Any]:
    """The hyperparameters as the algorithm reads them; ClientError in its words for a missing or bad one."""
    path = root / "input/config/hyperparameters.json"
    raw = {key: str(value) for key, value in (json.loads(path.read_text()) if path.exists() else {}).items()}
    spec = HYPERPARAMETERS[algorithm]
    missing = [name for name, item in spec.items() if item.required and name not in raw]
    if missing:
        names = ", ".join(f"'{name}'" for name in missing)
        raise ClientError(f"No value(s) were specified for {names} which are required hyperparameter(s) "
                          "(caused by ValidationError)")
    values: dict[str, Any] = {}
    for name, text in raw.items():
        item = spec.get(name)
        if item is None:
            continue  # a documented hyperparameter the emulation does not use (learning_rate, ...) or a sagemaker_ one
        values[name] = _value(name, text, item)
    if algorithm == LINEAR_LEARNER and values["predictor_type"] == "multiclass_classifier" and "num_classes" not in values:
        raise ClientError("No value(s) were specified for 'num_classes' which are required hyperparameter(s) "
                          "when predictor_type is multiclass_classifier (caused by ValidationError)")
    ignored = sorted(set(raw) - set(spec))
    if ignored:
        print(f"Hyperparameters not used by the local emulation: {', '.join(ignored)}", flush=True)
    return values


def _value(name: str, text: str, item: Hyperparameter) -> Any:
    try:
        value: Any = item.kind(float(text)) if item.kind is int and float(text).is_integer() else item.kind(text)
    except ValueError:
        raise ClientError(f"Invalid hyperparameter '{name}': {text!r} is not of type "
                          f"'{'integer' if item.kind is int else 'number'}' (caused by ValidationError)") from None
    if item.choices and value not in item.choices:
        raise ClientError(f"Invalid hyperparameter '{name}': {text!r} is not one of {list(item.choices)} "
                          "(caused by ValidationError)")
    if item.minimum is not None and value < item.minimum:
        raise ClientError(f"Invalid hyperparameter '{name}': {text!r} is less than the minimum of {item.minimum:g} "
                          "(caused by ValidationError)")
    return value


def read_channel(root: Path, channel: str, content_type: str, label_first: bool) -> tuple[Any, Any]:
    """(features, labels or None) of a CSV channel; ClientError naming the channel otherwise."""
    import numpy as np
    import pandas as pd

    kind = (content_type or RECORDIO).split(";")[0].strip().lower()
    if kind == RECORDIO:
        raise ClientError(f"Channel '{channel}': content type {content_type or RECORDIO + ' (the default)'} is not emulated "
                          "by the local endpoint: give the channel ContentType text/csv")
    if kind not in ("text/csv", "csv"):
        raise ClientError(f"Channel '{channel}': content type {content_type!r} is not supported; use text/csv")
    folder = root / "input/data" / channel
    files = sorted(path for path in folder.rglob("*") if path.is_file() and not path.name.startswith("."))
    if not files:
        raise ClientError(f"Channel '{channel}' has no data files under {folder}")
    data = pd.concat([pd.read_csv(path, header=None) for path in files], ignore_index=True)
    try:
        values = data.to_numpy(dtype=np.float64)
    except ValueError:
        raise ClientError(f"Channel '{channel}': CSV must be numeric with no header "
                          f"(first row: {data.iloc[0].tolist()[:5]})") from None
    if np.isnan(values).any():
        raise ClientError(f"Channel '{channel}': CSV has empty values; the algorithm takes none")
    if label_first:
        if values.shape[1] < 2:
            raise ClientError(f"Channel '{channel}': CSV needs the label in the first column and at least one feature")
        return values[:, 1:], values[:, 0]
    return values, None


def check_feature_dim(features: Any, feature_dim: Any, channel: str) -> None:
    if feature_dim is not None and features.shape[1] != int(feature_dim):
        raise ClientError(f"Channel '{channel}' has {features.shape[1]} feature(s) per record but hyperparameter "
                          f"'feature_dim' is {feature_dim}: they must match (caused by ValueError)")


def quality_metric(channel: str, name: str, value: float, loss: bool = False) -> None:
    """As the algorithms' containers print their metrics; training.py turns them into FinalMetricDataList."""
    print(f"#quality_metric: host={HOST}, {channel} {name} <{'loss' if loss else 'score'}>={value}", flush=True)


# --- the algorithms ---------------------------------------------------------------------------
def train_knn(hyperparameters: dict[str, Any], data: dict[str, tuple[Any, Any]]) -> dict[str, Any]:
    import numpy as np
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

    features, labels = data["train"]
    metric = hyperparameters.get("index_metric", "L2")
    if metric == "INNER_PRODUCT":
        raise ClientError("Hyperparameter 'index_metric' INNER_PRODUCT is not emulated by the local endpoint: use L2 or COSINE")
    sample_size = hyperparameters["sample_size"]
    if sample_size < len(features):  # the algorithm keeps a sample of sample_size points as its index
        chosen = np.random.default_rng(0).choice(len(features), size=sample_size, replace=False)
        features, labels = features[chosen], labels[chosen]
    k = hyperparameters["k"]
    if k > len(features):
        raise ClientError(f"Hyperparameter 'k' ({k}) is larger than the number of sampled points ({len(features)})")
    classifier = hyperparameters["predictor_type"] == "classifier"
    options = {"n_neighbors": k, "metric": "cosine" if metric == "COSINE" else "euclidean"}
    estimator = KNeighborsClassifier(**options) if classifier else KNeighborsRegressor(**options)
    estimator.fit(features, labels)
    print(f"Index of {len(features)} point(s) of {features.shape[1]} feature(s), k={k}", flush=True)
    if "test" in data:
        test_features, test_labels = data["test"]
        predicted = estimator.predict(test_features)
        if classifier:
            quality_metric("test", "accuracy", float(np.mean(predicted == test_labels)))
        else:
            quality_metric("test", "mse", float(np.mean((predicted - test_labels) ** 2)), loss=True)
    return {"predictor_type": hyperparameters["predictor_type"], "estimator": estimator}


def train_linear_learner(hyperparameters: dict[str, Any], data: dict[str, tuple[Any, Any]]) -> dict[str, Any]:
    import numpy as np
    from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    predictor_type = hyperparameters["predictor_type"]
    features, labels = data["train"]
    classes = 2 if predictor_type == "binary_classifier" else hyperparameters.get("num_classes")
    for channel, (_, channel_labels) in data.items():
        if classes and not np.isin(channel_labels, np.arange(classes)).all():
            raise ClientError(f"Channel '{channel}': labels must be integers from 0 to {classes - 1} for predictor_type "
                              f"{predictor_type}; found {sorted(set(channel_labels.tolist()))[:10]}")
    wd = float(hyperparameters.get("wd", 0.0))
    if predictor_type == "regressor":
        model: Any = Ridge(alpha=wd) if wd else LinearRegression()
    else:
        model = LogisticRegression(C=1.0 / wd if wd else 1e6, max_iter=1000)
    steps = [StandardScaler(), model] if str(hyperparameters.get("normalize_data", "true")).lower() == "true" else [model]
    estimator = make_pipeline(*steps)
    estimator.fit(features, labels.astype(int) if classes else labels)
    print(f"Fitted a {predictor_type} on {len(features)} record(s) of {features.shape[1]} feature(s)", flush=True)
    for channel in ("validation", "test"):
        if channel in data:
            _linear_learner_metrics(channel, predictor_type, estimator, *data[channel])
    return {"predictor_type": predictor_type, "estimator": estimator}


def _linear_learner_metrics(channel: str, predictor_type: str, estimator: Any, features: Any, labels: Any) -> None:
    import numpy as np
    from sklearn import metrics

    if predictor_type == "regressor":
        predicted = estimator.predict(features)
        mse = float(metrics.mean_squared_error(labels, predicted))
        quality_metric(channel, "objective_loss", mse, loss=True)  # the default loss, squared_loss
        quality_metric(channel, "mse", mse, loss=True)
        quality_metric(channel, "rmse", mse ** 0.5, loss=True)
        quality_metric(channel, "absolute_loss", float(metrics.mean_absolute_error(labels, predicted)), loss=True)
        return
    probabilities = estimator.predict_proba(features)
    known = list(estimator.classes_)
    truth = labels.astype(int)
    quality_metric(channel, "objective_loss", float(metrics.log_loss(truth, probabilities, labels=known)), loss=True)
    predicted = np.asarray(known)[probabilities.argmax(axis=1)]
    if predictor_type == "binary_classifier":
        quality_metric(channel, "binary_classification_accuracy", float(metrics.accuracy_score(truth, predicted)))
        quality_metric(channel, "precision", float(metrics.precision_score(truth, predicted, zero_division=0)))
        quality_metric(channel, "recall", float(metrics.recall_score(truth, predicted, zero_division=0)))
        quality_metric(channel, "binary_f_beta", float(metrics.f1_score(truth, predicted, zero_division=0)))
        if len(set(truth.tolist())) == 2:
            quality_metric(channel, "roc_auc_score", float(metrics.roc_auc_score(truth, probabilities[:, -1])))
    else:
        quality_metric(channel, "multiclass_accuracy", float(metrics.accuracy_score(truth, predicted)))
        quality_metric(channel, "macro_precision", float(metrics.precision_score(truth, predicted, average="macro", zero_division=0)))
        quality_metric(channel, "macro_recall", float(metrics.recall_score(truth, predicted, average="macro", zero_division=0)))
        quality_metric(channel, "macro_f_beta", float(metrics.f1_score(truth, predicted, average="macro", zero_division=0)))


def train_kmeans(hyperparameters: dict[str, Any], data: dict[str, tuple[Any, Any]]) -> dict[str, Any]:
    from sklearn.cluster import KMeans

    features, _ = data["train"]
    k = hyperparameters["k"]
    if k > len(features):
        raise ClientError(f"Hyperparameter 'k' ({k}) is larger than the number of training records ({len(features)})")
    init = "k-means++" if hyperparameters.get("init_method") == "kmeans++" else "random"
    estimator = KMeans(n_clusters=k, init=init, n_init=1, random_state=0).fit(features)
    print(f"{k} cluster(s) from {len(features)} record(s) of {features.shape[1]} feature(s)", flush=True)
    distances = estimator.transform(features).min(axis=1)  # to each record's closest center
    quality_metric("train", "msd", float((distances ** 2).mean()), loss=True)
    if "test" in data:
        try:
            wanted = json.loads(hyperparameters.get("eval_metrics", '["msd"]').replace("'", '"'))
        except ValueError:
            raise ClientError(f"Invalid hyperparameter 'eval_metrics': {hyperparameters['eval_metrics']!r} is not a list "
                              "such as [\"msd\", \"ssd\"] (caused by ValidationError)") from None
        squared = estimator.transform(data["test"][0]).min(axis=1) ** 2
        for name in wanted:
            if name not in ("msd", "ssd"):
                raise ClientError(f"Invalid hyperparameter 'eval_metrics': {name!r} is not one of ['msd', 'ssd'] "
                                  "(caused by ValidationError)")
            quality_metric("test", name, float(squared.mean() if name == "msd" else squared.sum()), loss=True)
    return {"estimator": estimator}


TRAINERS: dict[str, Callable[[dict[str, Any], dict[str, tuple[Any, Any]]], dict[str, Any]]] = {
    KNN: train_knn, LINEAR_LEARNER: train_linear_learner, KMEANS: train_kmeans,
}


def train(root: Path) -> None:
    algorithm = sys.argv[2]
    hyperparameters = read_hyperparameters(root, algorithm)
    config_path = root / "input/config/inputdataconfig.json"
    channels = json.loads(config_path.read_text()) if config_path.exists() else {}
    if "train" not in channels:
        raise ClientError(f"Channel 'train' is required; got {sorted(channels) or 'none'}")
    unknown = sorted(set(channels) - set(CHANNELS[algorithm]))
    if unknown:
        raise ClientError(f"Channel(s) {unknown} are not supported by the {algorithm} algorithm: it reads "
                          f"{list(CHANNELS[algorithm])}")
    data = {name: read_channel(root, name, channels[name].get("ContentType", ""), LABEL_FIRST[algorithm])
            for name in CHANNELS[algorithm] if name in channels}
    feature_dim = hyperparameters.get("feature_dim")
    if feature_dim == "auto":
        feature_dim = None
    elif feature_dim is not None and not str(feature_dim).isdigit():
        raise ClientError(f"Invalid hyperparameter 'feature_dim': {feature_dim!r} is not a positive integer or 'auto' "
                          "(caused by ValidationError)")
    for name, (features, _) in data.items():
        check_feature_dim(features, feature_dim, name)
    model = TRAINERS[algorithm](hyperparameters, data)
    model.update(algorithm=algorithm, feature_dim=int(data["train"][0].shape[1]))
    model_dir = root / "model"
    model_dir.mkdir(parents=True, exist_ok=True)
    with (model_dir / MODEL_FILE).open("wb") as handle:
        pickle.dump(model, handle)
    print(f"Saved the model to {model_dir / MODEL_FILE}", flush=True)


if __name__ == "__main__":
    sys.exit(run_container(train))
