"""evaluation.json: good reports give metrics; every bad one is an error naming the file and field."""

from __future__ import annotations

import json

import pytest
from airflow_sagemaker_pipelines.evaluation_report import EvaluationReportError, parse_evaluation_report

from tests.support.declarations import COUNT_PATHS, METRIC_PATHS

RANGES = {"auc": (0.0, 1.0)}
URI = "s3://bucket/pipeline/executions/abc/evaluation/evaluation.json"


def report(auc: object, **extra: object) -> str:
    return json.dumps({"classification_metrics": {"auc_roc": {"value": auc}, **extra}, "rows": {"test": 300}})


def test_reads_auc_and_the_other_metrics() -> None:
    metrics = parse_evaluation_report(report(0.81, accuracy={"value": 0.7}, f1={"value": 0.5}), URI,
                                      METRIC_PATHS, COUNT_PATHS, required="auc", ranges=RANGES)
    assert metrics == {"auc": 0.81, "accuracy": 0.7, "f1": 0.5, "test_rows": 300}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        (json.dumps({"classification_metrics": {}}), "no classification_metrics.auc_roc.value"),
        ('{"classification_metrics": {"auc_roc": {"value": NaN}}}', "is nan"),
        (report(0.8, f1={"value": float("inf")}), "f1.value is inf, expected a finite number"),
        (report("0.9"), "is '0.9', expected a number"),
        (report(True), "is True, expected a number"),
        (report(1.7), "is 1.7, expected a number from 0 to 1"),
        (report(0.8, accuracy={"value": None}), "accuracy.value is None"),
    ],
)
def test_bad_report_is_a_clear_error(text: str, message: str) -> None:
    with pytest.raises(EvaluationReportError, match=message) as error:
        parse_evaluation_report(text, URI, METRIC_PATHS, COUNT_PATHS, required="auc", ranges=RANGES)
    assert URI in str(error.value)


def test_metric_paths_must_say_where_the_decisions_metric_is() -> None:
    with pytest.raises(ValueError, match="metric_paths must name where 'auc' is"):
        parse_evaluation_report(report(0.8), URI, {"accuracy": ("classification_metrics", "accuracy", "value")},
                                required="auc")


def test_a_metric_without_a_range_may_be_any_finite_number() -> None:
    text = json.dumps({"regression_metrics": {"rmse": {"value": 41.7}, "r2": {"value": -0.3}}})
    paths = {"rmse": ("regression_metrics", "rmse", "value"), "r2": ("regression_metrics", "r2", "value")}
    assert parse_evaluation_report(text, URI, paths, required="rmse") == {"rmse": 41.7, "r2": -0.3}
