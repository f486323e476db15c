"""`make run`'s own command: it runs the DAG, says in one line what was decided, and exits 0 for a decision."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import PROJECT_ROOT


@pytest.mark.timeout(600)
def test_a_rejection_is_a_decision_said_in_one_line_with_exit_code_0() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "devtools.local_airflow.run_training_dag", "--day", "2024-03-01", "--threshold", "0.99"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=540,
    )
    out = completed.stdout
    assert completed.returncode == 0, out[-3000:] + completed.stderr[-3000:]
    verdict = out.strip().splitlines()[-1]
    assert verdict.startswith("GATE FAILED: The pipeline's quality gate rejected the model: Model AUC 0.")
    assert verdict.endswith("; the pipeline's quality gate registered no model; NOT DEPLOYED: only an approved "
                            "model is deployed")
    assert "Data day   2024-03-01" in out and "SUCCESS" not in out
    metrics = next(line for line in out.splitlines() if line.startswith("Metrics    "))
    assert re.fullmatch(r"Metrics    \w+=(\d+|0\.\d{4})(, \w+=(\d+|0\.\d{4}))*", metrics), metrics  # 4 places in text
    assert "auc=0." in metrics
    assert "  total " in out  # the run's total time, with its phases


@pytest.mark.timeout(600)
def test_the_main_job_shows_the_whole_loop_an_approved_model_deployed_smoke_tested_and_answering() -> None:
    completed = subprocess.run([sys.executable, "-m", "devtools.local_airflow.run_training_dag", "--day", "2024-03-01"],
                               cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=540)
    out = completed.stdout
    assert completed.returncode == 0, out[-3000:] + completed.stderr[-3000:]
    assert out.strip().splitlines()[-1].startswith("APPROVED: AUC 0.")
    assert out.strip().endswith("; model approved and DEPLOYED and the day SCORED")
    assert re.search(r"Scores     s3://\S+/scores/ds=2024-03-01/dataset\.csv: \d+ rows by model package version 1, "
                     r"\d+\.\d% flagged positive", out)
    assert re.search(r"dataset\.csv:2,0\.\d+   dataset\.csv:3,0\.\d+   \.\.\.", out)
    assert "Asset event sagemaker-model-package-group/classification-models: package version 1" in out
    assert re.search(r"Endpoint   ml-classification-pipeline-endpoint: InService, serving package classification-models/1",
                     out)
    assert re.search(r"Smoke test auc=0\.\d{4}, p50_ms=\d+\.\d{4}, package_auc=0\.\d{4}", out)
    assert re.search(r"Prediction [\d.,]+ -> 0\.\d+ \(its label: [01]\.?0?\)", out)
