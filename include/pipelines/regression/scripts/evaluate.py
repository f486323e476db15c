"""EvaluateRegressor: score the test split with the trained model and write evaluation.json.

The report's `regression_metrics.rmse.value` is what the pipeline's quality gate reads (lower is
better); MAE, R² and the row count are for people and for the model registry.
"""

from __future__ import annotations

import argparse
import json
import sys
import tarfile
from pathlib import Path


def load_model(model_dir: Path):
    import xgboost as xgb

    archive = model_dir / "model.tar.gz"
    if not archive.is_file():
        raise FileNotFoundError(f"No model.tar.gz in {model_dir}")
    with tarfile.open(archive) as bundle:
        bundle.extractall(model_dir, filter="data")
    booster = xgb.Booster()
    booster.load_model(str(model_dir / "xgboost-model"))
    return booster


def evaluate(booster, test_dir: Path) -> dict:
    import numpy as np
    import pandas as pd
    import xgboost as xgb
    from sklearn import metrics

    files = sorted(test_dir.rglob("*.csv"))
    if not files:
        raise FileNotFoundError(f"No test CSV under {test_dir}")
    data = pd.concat([pd.read_csv(path, header=None) for path in files], ignore_index=True)
    targets = data.iloc[:, 0].to_numpy()
    predicted = booster.predict(xgb.DMatrix(data.iloc[:, 1:].to_numpy(dtype=np.float32)))
    return {
        "regression_metrics": {
            "rmse": {"value": float(np.sqrt(metrics.mean_squared_error(targets, predicted)))},
            "mae": {"value": float(metrics.mean_absolute_error(targets, predicted))},
            "r2": {"value": float(metrics.r2_score(targets, predicted))},
        },
        "rows": {"test": len(targets)},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", default="/opt/ml/processing/model")
    parser.add_argument("--test-dir", default="/opt/ml/processing/test")
    parser.add_argument("--output-dir", default="/opt/ml/processing/evaluation")
    options = parser.parse_args(argv)
    report = evaluate(load_model(Path(options.model_dir)), Path(options.test_dir))
    output = Path(options.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    (output / "evaluation.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report["regression_metrics"]["rmse"]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
