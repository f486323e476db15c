"""The built-in SageMaker XGBoost algorithm's training contract, run inside a job sandbox.

Reads /opt/ml/input/config/{hyperparameters,inputdataconfig}.json and the channels under
/opt/ml/input/data (CSV with the label in the first column and no header, or libsvm), trains
with the xgboost package, prints the per-round metrics as the algorithm container does
(`[3]#011train-auc:0.91#011validation-auc:0.88`), and saves /opt/ml/model/xgboost-model.
Errors go to /opt/ml/output/failure, as the container writes them. It runs as a plain script in a
separate process and imports nothing of the project but container_run.py, beside it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from container_run import ClientError, run_container

INTEGER_HYPERPARAMETERS = {"num_round", "early_stopping_rounds", "max_depth", "num_class",
                           "max_leaves", "max_bin", "seed", "num_parallel_tree", "nthread",
                           "verbosity", "csv_weights"}
# xgboost's own evaluation metrics, which a tuning objective may name (validation:auc).
NATIVE_METRICS = {"auc", "aucpr", "error", "logloss", "mae", "map", "merror", "mlogloss", "ndcg", "rmse"}
# Hyperparameters of the algorithm that are not xgboost training params.
CONTROL_HYPERPARAMETERS = {"num_round", "early_stopping_rounds", "csv_weights", "save_model_on_termination",
                           "_kfold", "_num_cv_round", "_tuning_objective_metric"}


def _number(name: str, value: str) -> object:
    """Hyperparameters arrive as strings; xgboost wants numbers where they are numbers."""
    text = str(value).strip()
    if name in INTEGER_HYPERPARAMETERS:
        try:
            return int(float(text))
        except ValueError:
            raise ClientError(f"Hyperparameter {name}: {value!r} is not an integer") from None
    try:
        return float(text)
    except ValueError:
        return text


def read_hyperparameters(root: Path) -> tuple[dict[str, object], int, int | None]:
    path = root / "input/config/hyperparameters.json"
    raw = json.loads(path.read_text()) if path.exists() else {}
    values = {name: _number(name, value) for name, value in raw.items()}
    if "num_round" not in values:
        raise ClientError("Missing required hyperparameter: num_round")
    num_round = int(values["num_round"])  # type: ignore[arg-type]
    early = values.get("early_stopping_rounds")
    params = {k: v for k, v in values.items() if k not in CONTROL_HYPERPARAMETERS}
    if isinstance(params.get("eval_metric"), str) and "," in str(params["eval_metric"]):
        params["eval_metric"] = str(params["eval_metric"]).split(",")  # type: ignore[assignment]
    _add_tuning_objective(params, raw.get("_tuning_objective_metric"))
    return params, num_round, int(early) if early is not None else None  # type: ignore[arg-type]


def _add_tuning_objective(params: dict[str, object], objective: object) -> None:
    """A tuning job's trial gets `_tuning_objective_metric` (validation:auc): the container evaluates that
    metric too, as AWS's does, so the objective is in the log whatever eval_metric says. Only xgboost's
    own metrics are added; the container's extra ones (accuracy, f1, mse) are not emulated."""
    if not objective:
        return
    metric = str(objective).split(":", 1)[-1]
    if metric not in NATIVE_METRICS:
        return
    current = params.get("eval_metric")
    metrics = list(current) if isinstance(current, list) else [str(current)] if current else []
    if metric not in metrics:
        params["eval_metric"] = [*metrics, metric]


def load_channel(root: Path, channel: str, content_type: str):
    import numpy as np
    import pandas as pd
    import xgboost as xgb

    folder = root / "input/data" / channel
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    if not files:
        raise ClientError(f"Channel '{channel}' has no data files under {folder}")
    kind = (content_type or "text/libsvm").split(";")[0].strip().lower()
    if kind in ("text/csv", "csv"):
        frames = [pd.read_csv(path, header=None) for path in files]
        data = pd.concat(frames, ignore_index=True)
        try:
            values = data.to_numpy(dtype=np.float32)
        except ValueError:
            raise ClientError(
                f"Channel '{channel}': CSV must be numeric, label first, no header "
                f"(first row: {data.iloc[0].tolist()[:5]})"
            ) from None
        return xgb.DMatrix(values[:, 1:], label=values[:, 0])
    if kind in ("text/libsvm", "libsvm", "text/x-libsvm"):
        if len(files) > 1:
            raise ClientError(f"Channel '{channel}': libsvm input must be a single file, found {len(files)}")
        return xgb.DMatrix(f"{files[0]}?format=libsvm")
    raise ClientError(f"Channel '{channel}': content type {content_type!r} is not supported; use text/csv or text/libsvm")


def train(root: Path) -> None:
    import xgboost as xgb

    params, num_round, early_stopping = read_hyperparameters(root)
    config_path = root / "input/config/inputdataconfig.json"
    channels = json.loads(config_path.read_text()) if config_path.exists() else {}
    if "train" not in channels:
        raise ClientError(f"Channel 'train' is required; got {sorted(channels) or 'none'}")
    dtrain = load_channel(root, "train", channels["train"].get("ContentType", ""))
    evals = [(dtrain, "train")]
    if "validation" in channels:
        evals.append((load_channel(root, "validation", channels["validation"].get("ContentType", "")), "validation"))
    if early_stopping and len(evals) < 2:
        raise ClientError("early_stopping_rounds needs a 'validation' channel")
    print(f"Train matrix has {dtrain.num_row()} rows and {dtrain.num_col()} columns", flush=True)

    class SageMakerLog(xgb.callback.TrainingCallback):
        def after_iteration(self, model, epoch, evals_log) -> bool:
            parts = [f"[{epoch}]"]
            for data_name, metrics in evals_log.items():
                for metric_name, history in metrics.items():
                    parts.append(f"{data_name}-{metric_name}:{history[-1]:.5f}")
            print("#011".join(parts), flush=True)
            return False

    booster = xgb.train(
        params, dtrain, num_boost_round=num_round, evals=evals,
        early_stopping_rounds=early_stopping, verbose_eval=False, callbacks=[SageMakerLog()],
    )
    model_dir = root / "model"
    model_dir.mkdir(parents=True, exist_ok=True)
    booster.save_model(str(model_dir / "xgboost-model"))
    print(f"Saved the model to {model_dir / 'xgboost-model'}", flush=True)


if __name__ == "__main__":
    sys.exit(run_container(train))
