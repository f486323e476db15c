"""EvaluateModel: score the test split with the trained model and write evaluation.json.

The report's `classification_metrics.auc_roc.value` is what the pipeline's quality gate
reads; the rest (accuracy, precision, recall, F1, confusion matrix, row counts) is for
people and for the model registry.
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


def evaluate(booster, test_dir: Path, threshold: float = 0.5) -> dict:
    import numpy as np
    import pandas as pd
    import xgboost as xgb
    from sklearn import metrics

    files = sorted(test_dir.rglob("*.csv"))
    if not files:
        raise FileNotFoundError(f"No test CSV under {test_dir}")
    data = pd.concat([pd.read_csv(path, header=None) for path in files], ignore_index=True)
    labels = data.iloc[:, 0].to_numpy()
    scores = booster.predict(xgb.DMatrix(data.iloc[:, 1:].to_numpy(dtype=np.float32)))
    predicted = (scores >= threshold).astype(int)
    matrix = metrics.confusion_matrix(labels, predicted, labels=[0, 1])
    return {
        "classification_metrics": {
            "auc_roc": {"value": float(metrics.roc_auc_score(labels, scores))},
            "accuracy": {"value": float(metrics.accuracy_score(labels, predicted))},
            "precision": {"value": float(metrics.precision_score(labels, predicted, zero_division=0))},
            "recall": {"value": float(metrics.recall_score(labels, predicted, zero_division=0))},
            "f1": {"value": float(metrics.f1_score(labels, predicted, zero_division=0))},
            "confusion_matrix": {
                "0": {"0": int(matrix[0][0]), "1": int(matrix[0][1])},
                "1": {"0": int(matrix[1][0]), "1": int(matrix[1][1])},
            },
        },
        "decision_threshold": threshold,
        "rows": {"test": len(labels), "positive": int(labels.sum())},
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
    print(json.dumps(report["classification_metrics"]["auc_roc"]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
