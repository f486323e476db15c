"""evaluation.json: good reports give metrics; every bad one is an error naming the file and field."""

from __future__ import annotations

import json

import pytest
from airflow_sagemaker_pipelines.evaluation_report import EvaluationReportError, parse_evaluation_report

from include.pipelines.contract import COUNT_PATHS, METRIC_PATHS

URI = "s3://bucket/pipeline/executions/abc/evaluation/evaluation.json"


def report(auc: object, **extra: object) -> str:
    return json.dumps({"classification_metrics": {"auc_roc": {"value": auc}, **extra}, "rows": {"test": 300}})


def test_reads_auc_and_the_other_metrics() -> None:
    metrics = parse_evaluation_report(report(0.81, accuracy={"value": 0.7}, f1={"value": 0.5}), URI,
                                      METRIC_PATHS, COUNT_PATHS)
    assert metrics == {"auc": 0.81, "accuracy": 0.7, "f1": 0.5, "test_rows": 300}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        (json.dumps({"classification_metrics": {}}), "no classification_metrics.auc_roc.value"),
        ('{"classification_metrics": {"auc_roc": {"value": NaN}}}', "is nan"),
        (report("0.9"), "is '0.9', expected a number"),
        (report(True), "is True, expected a number"),
        (report(1.7), "is 1.7, expected a number between 0 and 1"),
        (report(0.8, accuracy={"value": None}), "accuracy.value is None"),
    ],
)
def test_bad_report_is_a_clear_error(text: str, message: str) -> None:
    with pytest.raises(EvaluationReportError, match=message) as error:
        parse_evaluation_report(text, URI, METRIC_PATHS, COUNT_PATHS)
    assert URI in str(error.value)


def test_metric_paths_must_say_where_the_auc_is() -> None:
    with pytest.raises(ValueError, match="metric_paths must name where 'auc' is"):
        parse_evaluation_report(report(0.8), URI, {"accuracy": ("classification_metrics", "accuracy", "value")})
