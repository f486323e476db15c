"""preprocess.py and evaluate.py on real files, as they run in their containers (paths as arguments)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from devtools.sample_data.partitions import daily_partition
from include.pipelines.classification.scripts import preprocess

SCRIPTS = Path(preprocess.__file__).parent


def _run(script: str, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPTS / script), *arguments], capture_output=True, text=True, check=False)


def _write(folder: Path, frame: pd.DataFrame, name: str = "dataset.csv") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_csv(folder / name, index=False)


def test_preprocess_splits_70_15_15_stratified_label_first_without_header(tmp_path: Path) -> None:
    _write(tmp_path / "in" / "a", daily_partition(date(2024, 1, 1), rows=1000))
    _write(tmp_path / "in" / "b", daily_partition(date(2024, 1, 2), rows=1000))
    result = _run("preprocess.py", "--input-dir", str(tmp_path / "in"), "--output-dir", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    parts = {name: pd.read_csv(tmp_path / "out" / name / f"{name}.csv", header=None) for name in ("train", "validation", "test")}
    assert {name: len(frame) for name, frame in parts.items()} == {"train": 1400, "validation": 300, "test": 300}
    rates = [frame[0].mean() for frame in parts.values()]
    assert max(rates) - min(rates) < 0.01, "splits are not stratified"
    assert parts["train"].shape[1] == 1 + len(preprocess.FEATURE_COLUMNS)
    assert set(parts["train"][0].unique()) == {0, 1}


def test_preprocess_is_deterministic(tmp_path: Path) -> None:
    _write(tmp_path / "in", daily_partition(date(2024, 1, 1), rows=500))
    for run in ("one", "two"):
        assert _run("preprocess.py", "--input-dir", str(tmp_path / "in"), "--output-dir", str(tmp_path / run)).returncode == 0
    assert (tmp_path / "one/test/test.csv").read_bytes() == (tmp_path / "two/test/test.csv").read_bytes()


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda f: f.drop(columns=["age"]), "missing column(s) age"),
        (lambda f: f.assign(extra=1), "unexpected column(s) extra"),
        (lambda f: f.assign(had_affair=f["had_affair"] * 2), "label column had_affair must be 0 or 1; found 2"),
        (lambda f: f.assign(age="old"), "column age must be numeric"),
        (lambda f: f.iloc[0:0], "has no rows"),
    ],
    ids=["missing", "unexpected", "non-binary-label", "non-numeric", "empty"],
)
def test_preprocess_refuses_bad_input_naming_the_problem(tmp_path: Path, mutate, expected: str) -> None:
    _write(tmp_path / "in", mutate(daily_partition(date(2024, 1, 1), rows=200)))
    result = _run("preprocess.py", "--input-dir", str(tmp_path / "in"), "--output-dir", str(tmp_path / "out"))
    assert result.returncode == 2
    assert expected in result.stderr
    assert not (tmp_path / "out").exists(), "a refused input still wrote output"


def test_preprocess_with_no_csv_says_so(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    result = _run("preprocess.py", "--input-dir", str(tmp_path / "in"), "--output-dir", str(tmp_path / "out"))
    assert result.returncode == 2 and "No CSV files under" in result.stderr


def test_evaluate_writes_the_report_the_gate_reads(tmp_path: Path) -> None:
    import tarfile

    import xgboost as xgb

    _write(tmp_path / "in", daily_partition(date(2024, 1, 1), rows=1000))
    assert _run("preprocess.py", "--input-dir", str(tmp_path / "in"), "--output-dir", str(tmp_path / "split")).returncode == 0
    train = pd.read_csv(tmp_path / "split/train/train.csv", header=None)
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 3}, xgb.DMatrix(train.iloc[:, 1:].to_numpy(), label=train[0].to_numpy()), 20)
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    booster.save_model(str(tmp_path / "xgboost-model"))
    with tarfile.open(model_dir / "model.tar.gz", "w:gz") as bundle:
        bundle.add(tmp_path / "xgboost-model", arcname="xgboost-model")
    result = _run("evaluate.py", "--model-dir", str(model_dir), "--test-dir", str(tmp_path / "split/test"),
                  "--output-dir", str(tmp_path / "evaluation"))
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "evaluation/evaluation.json").read_text())
    metrics = report["classification_metrics"]
    assert 0.5 < metrics["auc_roc"]["value"] < 1.0
    matrix = metrics["confusion_matrix"]
    assert sum(matrix[a][b] for a in "01" for b in "01") == report["rows"]["test"] == 150
