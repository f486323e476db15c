"""Every DAG imports cleanly, fast, without the SageMaker SDK or an AWS client, and is well formed."""

from __future__ import annotations

import copy
import re
import sys
from datetime import timedelta

import pytest
from airflow_sagemaker_pipelines.dag_family import LATE_RUN_ALERTS_SWITCH

from tests.conftest import PROJECT_ROOT
from tests.support.constants import DAG_ID
from tests.support.dag_parsing import project_dags

REGRESSION_DAG_ID = "regression_training"

SAGEMAKER_TASKS = ("start_execution", "wait_for_execution")

# What deployments set: every operator that can defer does (`default_deferrable`), or none does.
DEPLOYMENT_SETTINGS = {
    "default": {},
    "default_deferrable": {"AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE": "True"},
    "never_deferrable": {"AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE": "False"},
}


@pytest.fixture(scope="module")
def parse_report() -> dict:
    return project_dags(DEPLOYMENT_SETTINGS["default"])


@pytest.fixture(scope="module")
def dag_bag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"))
    assert not bag.import_errors, bag.import_errors
    return bag


@pytest.fixture(scope="module")
def dag(dag_bag):
    return dag_bag.dags[DAG_ID]


@pytest.fixture(scope="module", params=[DAG_ID, REGRESSION_DAG_ID])
def any_dag(request, dag_bag):
    """Each example pipeline's training DAG: the same tasks and rules, its own names."""
    return dag_bag.dags[request.param]


def test_dags_import_without_errors(parse_report: dict) -> None:
    assert parse_report["import_errors"] == {}
    assert parse_report["dag_ids"] == ["classification_data_monitoring", "classification_deploy", "classification_on_new_data", "classification_scoring", REGRESSION_DAG_ID,
                                        DAG_ID]


def test_the_plugin_loads_from_the_plugins_folder_and_the_links_resolve(parse_report: dict) -> None:
    assert parse_report["plugins"] == ["airflow_sagemaker_pipelines"] and parse_report["plugin_errors"] == {}
    assert parse_report["package_file"].startswith(str(PROJECT_ROOT / "plugins"))
    links = ["Local endpoint execution", "SageMaker Pipeline Execution"]
    assert parse_report["links"][DAG_ID] == {"start_execution": links, "wait_for_execution": links}
    assert parse_report["links"][REGRESSION_DAG_ID] == parse_report["links"][DAG_ID]


@pytest.mark.parametrize("setting", ["default_deferrable", "never_deferrable"])
def test_dags_load_alike_under_every_deferral_setting(parse_report: dict, setting: str) -> None:
    report = project_dags(DEPLOYMENT_SETTINGS[setting])
    assert report["import_errors"] == {}
    assert report["deferrable"] == parse_report["deferrable"]
    tasks = report["deferrable"][DAG_ID]
    assert tasks["start_execution"] is False  # it only starts
    assert tasks["wait_for_execution"] is True  # the package's design: the wait defers unless told otherwise


def test_training_dags_carry_a_late_run_deadline_unless_it_is_switched_off(parse_report: dict) -> None:
    assert not any(parse_report["deadlines"].values())  # the tests run DAGs with dag.test(): switched off
    report = project_dags({LATE_RUN_ALERTS_SWITCH: "true"})
    assert report["deadlines"] == {DAG_ID: ["late run"], REGRESSION_DAG_ID: ["late run"],
                                   "classification_deploy": [], "classification_on_new_data": [],
                                   "classification_scoring": [], "classification_data_monitoring": []}
    assert report["links"] == parse_report["links"]  # they serialize with their deadline


def test_a_late_run_switch_that_is_not_true_or_false_is_an_import_error_naming_it() -> None:
    report = project_dags({LATE_RUN_ALERTS_SWITCH: "sometimes"})
    assert report["dag_ids"] == []
    assert any(f"{LATE_RUN_ALERTS_SWITCH}='sometimes' is invalid: expected true (the default) or false" in error
               for error in report["import_errors"].values()), report["import_errors"]


def test_parsing_imports_no_sagemaker_sdk_and_creates_no_aws_client(parse_report: dict) -> None:
    assert parse_report["sdk_modules"] == []
    assert parse_report["clients_created"] == []
    assert parse_report["heavy_modules"] == []


def test_dag_is_documented_tagged_and_bounded(any_dag) -> None:
    dag = any_dag
    assert dag.doc_md and "ds=" in dag.doc_md and "pipeline.toml" in dag.doc_md
    assert {"sagemaker", "mlops", "training"} <= set(dag.tags)
    assert dag.catchup is False
    assert 1 <= dag.max_active_runs <= 5
    assert type(dag.timetable).__name__ == "DataDayTimetable"  # runs own their day: backfillable, named by it


@pytest.mark.parametrize("task_id", ["upsert_pipeline", "choose_partition", "start_execution", "wait_for_execution", "read_metrics", "keep_unpromoted",
                                     "decide_model", "approve_model", "reject_model", "notify"])
def test_every_task_has_owner_doc_timeout_retries_and_failure_callback(any_dag, task_id: str) -> None:
    task = any_dag.get_task(task_id)
    assert task.owner == "ml-platform"
    assert task.doc_md
    assert task.execution_timeout is not None and task.execution_timeout > timedelta(0)
    assert task.retries >= 1
    assert task.on_failure_callback


def test_an_approval_goes_through_the_review_which_asks_only_for_a_comment_and_never_retries(any_dag) -> None:
    review, decide = any_dag.get_task("review_model"), any_dag.get_task("decide_model")
    assert review.owner == "ml-platform" and review.doc_md and review.on_failure_callback
    assert review.retries == 0  # a retry would ask the person again
    assert sorted(review.serialized_params) == ["comment"] and review.options == ["Approve", "Reject"]
    assert review.defaults == ["Reject"]  # what no answer within the timeout chooses
    assert decide.branches["approved"] == decide.branches["unchanged"] == "review_model"
    assert any_dag.get_task("approve_model").upstream_task_ids >= {"review_model"}
    assert "decide_model" not in any_dag.get_task("approve_model").upstream_task_ids  # else its branch skips it
    assert any_dag.params["approval_mode"] == "auto"


def test_sagemaker_tasks_share_the_pool_and_the_wait_is_deferred(any_dag) -> None:
    dag = any_dag
    for task_id in SAGEMAKER_TASKS:
        assert dag.get_task(task_id).pool == "sagemaker_pipelines"
    wait = dag.get_task("wait_for_execution")
    assert wait.deferrable and wait.stop_on_kill
    assert wait.quality_gate_steps == ({DAG_ID: "ModelQualityTooLow", REGRESSION_DAG_ID: "ModelErrorTooHigh"}[dag.dag_id],)
    assert wait.execution_timeout > timedelta(seconds=wait.timeout)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("min_auc_threshold", 150, "150 is greater than the maximum of 100"),
        ("champion_margin", -0.1, "-0.1 is less than the minimum of 0"),
        ("wait_for_data_minutes", 2000, "2000 is greater than the maximum of 1440"),
        ("min_auc_threshold", "high", "'high' is not of type 'number'"),
        ("training_instance_type", "m5.xlarge", "does not match"),
        ("input_data_url", "http://example.com/data", "does not match"),
        ("model_approval_status", "approved", "is not one of"),
        ("notify", "yes", "is not of type 'boolean'"),
        ("approval_mode", "sometimes", "'sometimes' is not one of ['auto', 'manual']"),
        ("approval_timeout_hours", 0, "0 is less than or equal to the minimum of 0"),
    ],
)
def test_trigger_form_refuses_bad_values_with_a_clear_message(dag, name: str, value: object, message: str) -> None:
    from airflow.sdk.exceptions import ParamValidationError

    params = copy.deepcopy(dag.params)
    with pytest.raises(ParamValidationError, match=f"Invalid input for param {name}: .*{re.escape(message)}"):
        params.update({name: value})  # what triggering with this conf does
        params.validate()


def test_defaults_are_valid_and_the_partition_comes_from_the_run_not_a_template(dag) -> None:
    from airflow.sdk import XComArg

    resolved = dag.params.validate()
    assert resolved["input_data_url"] is None and resolved["min_auc_threshold"] == 0.7
    input_data_url = dag.get_task("start_execution").pipeline_params["InputDataUrl"]
    assert isinstance(input_data_url, XComArg)
    assert (input_data_url.operator.task_id, input_data_url.key) == ("choose_partition", "input_data_url")
    assert dag.render_template_as_native_obj  # numbers reach the operators as numbers


def _payload_keys(operator: object) -> set[str]:
    """The fields of the TypedDict an operator returns (its execute/execute_complete annotation)."""
    from airflow_sagemaker_pipelines import payloads

    names = {**vars(payloads), **vars(sys.modules[type(operator).__module__])}  # payloads: imported to type only
    for method in ("execute_complete", "execute"):
        annotation = getattr(getattr(type(operator), method, None), "__annotations__", {}).get("return")
        payload = eval(annotation, names) if isinstance(annotation, str) else annotation
        if hasattr(payload, "__annotations__") and hasattr(payload, "__required_keys__"):
            return set(payload.__annotations__)
    return set()


def test_every_xcom_field_a_task_reads_is_a_field_its_producer_returns(any_dag) -> None:
    """`task.output["field"]` resolves to None at run time when the field is not there: check it here."""
    from airflow.sdk import XComArg
    from airflow_sagemaker_pipelines.operators.model_decision import DECISION_KEY
    from airflow_sagemaker_pipelines.operators.start_pipeline import StartPipelineExecutionOperator

    pushed_by_hand = {DECISION_KEY, StartPipelineExecutionOperator.console_link_key}
    checked = 0
    for task in any_dag.tasks:
        for field in task.template_fields:
            for producer, key in XComArg.iter_xcom_references(getattr(task, field)):
                if key in ("return_value", *pushed_by_hand):
                    continue
                assert producer.multiple_outputs, f"{task.task_id}.{field} reads {producer.task_id}[{key!r}]"
                assert key in _payload_keys(producer), (
                    f"{task.task_id}.{field} reads {producer.task_id}[{key!r}], which "
                    f"{type(producer).__name__} does not return ({sorted(_payload_keys(producer))})")
                checked += 1
    assert checked >= 8


@pytest.mark.parametrize("dag_file", ["sagemaker_pipelines.py", "pipeline_declarations.py"])
def test_dag_files_hold_no_jinja_built_in_python(dag_file: str) -> None:
    text = (PROJECT_ROOT / "dags" / dag_file).read_text()
    assert "{{" not in text and "xcom_pull" not in text


def test_the_regression_form_asks_for_a_maximum_rmse_in_its_units(dag_bag) -> None:
    from airflow.sdk.exceptions import ParamValidationError

    dag = dag_bag.dags[REGRESSION_DAG_ID]
    assert dag.params.validate()["max_rmse_threshold"] == 70.0
    assert dag.params.get_param("max_rmse_threshold").schema["title"] == "Maximum RMSE"
    assert dag.get_task("start_execution").pipeline_params["MaxRmseThreshold"] == "{{ params.max_rmse_threshold }}"
    assert dag.get_task("decide_model").metric == {"name": "rmse", "better": "lower", "range": [0.0, 1000.0]}
    params = copy.deepcopy(dag.params)
    with pytest.raises(ParamValidationError, match="max_rmse_threshold"):
        params.update({"max_rmse_threshold": 5000})
        params.validate()
