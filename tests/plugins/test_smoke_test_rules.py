"""The smoke test's arithmetic and the endpoint's settings: what a deploy run checks, and what it refuses."""

from __future__ import annotations

import random

import pytest
from airflow_sagemaker_pipelines.declarations import SMOKE_TEST_METRICS
from airflow_sagemaker_pipelines.endpoint_settings import ENDPOINT_KEYS, endpoint_settings
from airflow_sagemaker_pipelines.smoke_metrics import (
    METRICS,
    SmokeTestError,
    auc,
    holdout_rows,
    median,
    parse_scores,
    rmse,
)

from tests.support.declarations import CLASSIFICATION, REGRESSION


def test_auc_is_scikit_learns_with_ties_counted_half() -> None:
    from sklearn.metrics import roc_auc_score

    rng = random.Random(7)
    labels = [rng.randint(0, 1) for _ in range(500)]
    scores = [round(rng.random() * 0.5 + 0.4 * label, 1) for label in labels]  # many ties
    assert auc(labels, scores) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    assert auc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]) == 0.5  # a constant model ranks nothing


def test_rmse_and_the_metrics_a_declaration_may_deploy_on() -> None:
    assert rmse([1, 2, 3], [1, 2, 6]) == pytest.approx(3 ** 0.5)
    assert tuple(METRICS) == SMOKE_TEST_METRICS  # what a declaration with [deploy] may name
    with pytest.raises(SmokeTestError, match="both classes"):
        auc([1, 1], [0.2, 0.9])


def test_held_out_rows_lose_their_label_and_a_header_is_refused() -> None:
    labels, rows = holdout_rows("1,3,32.5\n0,4,20\n\n1,5,1\n", limit=2)
    assert (labels, rows) == ([1.0, 0.0], ["3,32.5", "4,20"])
    with pytest.raises(SmokeTestError, match="the first column 'label' is not a label"):
        holdout_rows("label,a,b\n1,2,3\n", limit=5)


@pytest.mark.parametrize(("body", "content_type", "scores"), [
    (b"0.1\n0.9\n", "text/csv", [0.1, 0.9]),
    (b"0.1,0.9", "text/csv; charset=utf-8", [0.1, 0.9]),
    (b'{"predictions": [{"score": 0.1}, {"score": 0.9}]}', "application/json", [0.1, 0.9]),
])
def test_answers_are_read_as_one_number_per_row(body: bytes, content_type: str, scores: list[float]) -> None:
    assert parse_scores(body, content_type, 2) == scores


@pytest.mark.parametrize(("body", "content_type"), [
    (b"0.1\n", "text/csv"), (b"0.1\nNaN\n", "text/csv"), (b"<html>oops</html>", "text/csv"),
    (b'{"predictions": [{"label": 1}, {"label": 0}]}', "application/json")])
def test_an_answer_that_is_not_one_finite_number_per_row_fails_the_smoke_test(body: bytes, content_type: str) -> None:
    with pytest.raises(SmokeTestError):
        parse_scores(body, content_type, 2)


def test_median() -> None:
    assert (median([3, 1, 2]), median([4, 1, 2, 3])) == (2, 2.5)


def test_the_endpoint_settings_default_from_the_pipeline() -> None:
    settings = endpoint_settings({"bucket": "b", "pipeline_name": "churn"}, "the Variable", CLASSIFICATION)
    assert settings == ("churn-endpoint", "ml.m5.large", 1, 0.05, 500.0, 0, "data-capture")
    assert settings.data_capture("b") is None  # nothing is captured unless asked
    assert endpoint_settings({}, "the Variable", REGRESSION).tolerance == pytest.approx(7.0)  # 10% of the threshold


@pytest.mark.parametrize(("key", "value", "allowed"), [
    ("endpoint_name", "my_endpoint", "an endpoint name: letters, digits and hyphens, at most 40"),
    ("endpoint_name", "e" * 41, "an endpoint name: letters, digits and hyphens, at most 40"),
    ("endpoint_instance_type", "m5.large", "an ml.* instance type"),
    ("endpoint_instance_count", 0, "a whole number, 1 or more"),
    ("endpoint_instance_count", 1.5, "a whole number, 1 or more"),
    ("smoke_test_tolerance", -0.1, "a difference of AUC, 0 or more"),
    ("smoke_test_p50_ms", "fast", "milliseconds, more than 0"),
    ("data_capture_percent", 150, "the whole percentage of requests captured"),
    ("data_capture_percent", 12.5, "the whole percentage of requests captured"),
    ("data_capture_prefix", "/capture/", "an S3 key prefix such as data-capture"),
])
def test_a_bad_endpoint_setting_is_refused_naming_the_key(key: str, value: object, allowed: str) -> None:
    assert key in ENDPOINT_KEYS
    with pytest.raises(ValueError, match=f"the Variable: {key}={value!r} is invalid: expected {allowed}"):
        endpoint_settings({key: value}, "the Variable", CLASSIFICATION)


def test_a_captured_endpoint_gets_a_data_capture_config_of_requests_and_answers_under_the_bucket() -> None:
    settings = endpoint_settings({"data_capture_percent": 100, "data_capture_prefix": "monitoring/capture"},
                                 "the Variable", CLASSIFICATION)
    assert settings.data_capture("team-ml") == {
        "EnableCapture": True, "InitialSamplingPercentage": 100,
        "DestinationS3Uri": "s3://team-ml/monitoring/capture",
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"]}}
