"""The scoring DAG's rules without a run: its declaration and settings, the rows the model is given, the
scores' summary and shift, and which transform job a try is about."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pytest
from airflow_sagemaker_pipelines.declarations import DeclarationError, load_declaration
from airflow_sagemaker_pipelines.operators.scoring_input import MalformedData, model_rows
from airflow_sagemaker_pipelines.operators.scoring_transform import IdempotentTransformOperator
from airflow_sagemaker_pipelines.score_distribution import UNIT_EDGES, population_stability_index, summarise
from airflow_sagemaker_pipelines.scoring_settings import scoring_settings
from botocore.exceptions import ClientError

from tests.plugins.test_declarations import pipeline_folder, replaced
from tests.support.declarations import CLASSIFICATION

SOURCE = "s3://bucket/raw-data/ds=2024-03-01/part.csv"


def scoring_declared(tmp_path: Path, scoring: str, edit=lambda text: text) -> Any:
    folder = pipeline_folder(tmp_path, "churn", lambda text: edit(text.split("\n[scoring]")[0] + scoring),
                             source="classification")
    return load_declaration(folder)


def test_the_example_scores_with_its_features_two_hours_after_training() -> None:
    spec = CLASSIFICATION.scoring
    assert spec is not None and spec.dag_id == "classification_scoring" and spec.cron == "0 2 * * *"
    assert spec.features[:2] == ("rate_marriage", "age") and spec.positive_threshold == 0.5
    assert spec.scores_prefix(__import__("datetime").date(2024, 3, 1)) == "scores/ds=2024-03-01/"


@pytest.mark.parametrize(("scoring", "edit", "message"), [
    ('\n[scoring]\nfeatures = []\n', None, "[scoring] features: []: expected the model's input columns"),
    ('\n[scoring]\nfeatures = ["age", "age"]\n', None, "[scoring] features: ['age', 'age']: expected"),
    ('\n[scoring]\nfeatures = ["age"]\nid_column = "age"\n', None, "[scoring] id_column: 'age': expected a CSV column "
                                                                  "name that is not a feature"),
    ('\n[scoring]\nfeatures = ["age"]\ncron = "@hourly"\n', None, "[scoring] cron: '@hourly': expected a daily cron"),
    ('\n[scoring]\nfeatures = ["age"]\noutput_prefix = "raw-data/scores"\n', None,
     "[scoring] output_prefix: 'raw-data/scores' overlaps the data's prefix 'raw-data'"),
    ('\n[scoring]\nfeatures = ["age"]\nbatch = 3\n', None, "[scoring] batch: unknown key"),
    ('\n[scoring]\nfeatures = ["age"]\n', lambda text: re.sub(r'partitioning = "daily".*?first_day = [0-9-]+',
                                                              'partitioning = "none"', text, flags=re.S),
     "[scoring]: scoring runs once per data day: [schedule] partitioning must be daily"),
    ('\n[scoring]\nfeatures = ["age"]\n', replaced('data_day = "DataDay"\n', ''),
     "[scoring]: the model live on a day is found by the day each package learned from: declare [provenance] data_day"),
])
def test_a_bad_scoring_section_is_refused_naming_the_key(tmp_path, scoring, edit, message) -> None:
    with pytest.raises(DeclarationError) as refused:
        scoring_declared(tmp_path, scoring, edit or (lambda text: text))
    assert message in str(refused.value) and "churn/pipeline.toml" in str(refused.value)


def test_a_scoring_section_gets_its_dag_id_and_cron_from_the_pipeline(tmp_path) -> None:
    declaration = scoring_declared(tmp_path, '\n[scoring]\nfeatures = ["age"]\nid_column = "customer"\n',
                                   replaced('cron = "0 0 * * *"', 'cron = "30 23 * * *"'))
    assert declaration.scoring.dag_id == "churn_scoring" and declaration.scoring.cron == "30 1 * * *"
    assert declaration.scoring.id_column == "customer" and declaration.scoring.positive_threshold is None
    assert "churn_scoring" in declaration.dag_ids


@pytest.mark.parametrize(("values", "message"), [
    ({"scoring_name": "a" * 41}, "scoring_name='aaaa"),
    ({"scoring_instance_type": "m5.large"}, "scoring_instance_type='m5.large' is invalid: expected an ml.* instance"),
    ({"scoring_instance_count": 0}, "scoring_instance_count=0 is invalid: expected a whole number, 1 or more"),
    ({"scoring_uses_same_day_model": "yes"}, "scoring_uses_same_day_model='yes' is invalid: expected true or false"),
    ({"score_shift_psi": -1}, "score_shift_psi=-1 is invalid: expected a population stability index above 0"),
])
def test_a_bad_scoring_setting_is_refused_naming_the_key(values, message) -> None:
    with pytest.raises(ValueError, match=r"^the Variable: ") as refused:
        scoring_settings(values, "the Variable", CLASSIFICATION)
    assert message in str(refused.value)


def test_the_scoring_settings_default_to_names_from_the_registry_group() -> None:
    settings = scoring_settings({"model_package_group": "churn-models"}, "the Variable", CLASSIFICATION)
    assert settings == ("churn-models-scoring", "ml.m5.large", 1, False, 0.2)


def rows(text: str, features=("age", "educ"), id_column=None) -> list[list[str]]:
    return list(model_rows(iter(text.splitlines(keepends=True)), SOURCE, list(features), id_column))


def test_the_model_gets_its_features_in_training_order_each_row_with_its_file_and_line() -> None:
    assert rows("educ,label,age\n12,1,30\n14,0,\n") == [["part.csv:2", "30", "12"], ["part.csv:3", "", "14"]]
    assert rows("id,age,educ\nc-1,30,12\n", id_column="id") == [["c-1", "30", "12"]]


@pytest.mark.parametrize(("text", "message"), [
    ("", f"{SOURCE}: empty, expected a header row and data"),
    ("age,label\n1,0\n", f"{SOURCE}: missing column(s) educ; the model takes age, educ"),
    ("age,educ\n1,2\n3,x\n", f"{SOURCE} row 3: column educ is 'x', not a number"),
    ("age,educ\n1,2\n3,inf\n", f"{SOURCE} row 3: column educ is 'inf', not a number"),
    ("age,educ\n1,2,3\n", f"{SOURCE} row 2: 3 field(s), the header has 2"),
])
def test_a_malformed_file_is_refused_naming_the_file_row_and_column(text, message) -> None:
    with pytest.raises(MalformedData) as refused:
        rows(text)
    assert str(refused.value) == message


def test_the_same_scores_do_not_shift_and_moved_scores_do() -> None:
    before = summarise([i / 1000 for i in range(1000)], 0.5, None)
    assert before["edges"] == UNIT_EDGES and before["rows"] == 1000 and before["positive_share"] == 0.5
    same = summarise([i / 1000 for i in range(1000)], 0.5, before)
    assert population_stability_index(same, before) == 0.0
    moved = summarise([0.6 + i / 2500 for i in range(1000)], 0.5, before)
    psi = population_stability_index(moved, before)
    assert psi is not None and psi > 0.2 and math.isfinite(psi)
    assert moved["positive_share"] == 1.0


def test_scores_beyond_zero_to_one_are_binned_as_the_day_before() -> None:
    before = summarise([10.0, 20.0, 30.0], None, None)
    assert before["edges"][0] == 10.0 and before["edges"][-1] == 30.0 and before["positive_share"] is None
    after = summarise([5.0, 25.0, 35.0], None, before)
    assert after["edges"] == before["edges"] and sum(after["counts"]) == 3
    assert population_stability_index(after, before) is not None


class _Jobs:
    """DescribeTransformJob over a dict of job name -> status."""

    def __init__(self, statuses: dict[str, str]) -> None:
        self.statuses = statuses

    def describe_transform_job(self, name: str) -> dict[str, Any]:
        if name not in self.statuses:
            raise ClientError({"Error": {"Code": "ValidationException",
                                         "Message": f"Could not find requested job with name {name}"}},
                              "DescribeTransformJob")
        return {"TransformJobName": name, "TransformJobStatus": self.statuses[name], "FailureReason": "broken"}


@pytest.mark.parametrize(("statuses", "expected"), [
    ({}, ("day-v1", None)),
    ({"day-v1": "Completed"}, ("day-v1", "Completed")),
    ({"day-v1": "InProgress"}, ("day-v1", "InProgress")),
    ({"day-v1": "Failed"}, ("day-v1-2", None)),
    ({"day-v1": "Failed", "day-v1-2": "Stopped", "day-v1-3": "Completed"}, ("day-v1-3", "Completed")),
])
def test_a_try_attaches_to_the_days_job_or_starts_the_attempt_after_a_failed_one(monkeypatch, statuses,
                                                                                   expected) -> None:
    operator = IdempotentTransformOperator(task_id="score", config={"TransformJobName": "day-v1"})
    monkeypatch.setattr(IdempotentTransformOperator, "hook", _Jobs(statuses))
    name, job = operator._attempts.current("day-v1")
    assert (name, job["TransformJobStatus"] if job else None) == expected


def test_the_transform_defers_whatever_the_default_deferrable_setting_says() -> None:
    operator = IdempotentTransformOperator(task_id="score", config={}, deferrable=False, wait_for_completion=False)
    assert operator.deferrable and operator.wait_for_completion
    assert not operator.check_if_job_exists and not operator.check_if_model_exists
