"""A person approves the model in the Airflow UI (manual mode), on the native stack, through the REST API the UI
calls: approved, rejected with a comment, and no answer within the timeout, each written on the model package."""

from __future__ import annotations

import urllib.parse
from datetime import UTC, datetime, timedelta

import pytest

from devtools.local_airflow.environment import BUCKET
from devtools.local_airflow.stack import ADMIN_USER
from tests.stack.runs import eventually, failures, reports_about, run_path
from tests.support.declarations import REGRESSION

DAG_ID = REGRESSION.dag_id  # no other stack test uses it: its registry group is this test's alone
MANUAL = {"approval_mode": "manual", "champion_margin": 50}  # a margin the rules approve each day with


def run_url(run_id: str) -> str:
    return run_path(run_id, DAG_ID)


def trigger_on(api, day, conf: dict) -> str:
    """A run for the last complete day, on the data of `day` (a fingerprint of its own: the rules compare it)."""
    body = {"logical_date": None, "conf": {**conf, "input_data_url": f"s3://{BUCKET}/{REGRESSION.data_prefix}/ds={day}/"}}
    return api.call(f"/api/v2/dags/{DAG_ID}/dagRuns", body=body)["dag_run_id"]


def task_state(api, run_id: str, task_id: str) -> str | None:
    return api.call(f"{run_url(run_id)}/taskInstances/{task_id}")["state"]


def awaiting_answer(stack, api, run_id: str) -> dict:
    """The question, once the run's review_model waits for a person and the scheduler has seen the process that
    asked end. An answer before that, within about a second, as no person gives one, meets Airflow 3.3.2's
    resume race (apache/airflow#67287): the resumed task is queued when the executor reports the asking
    process's end, and the scheduler fails it as a task that died."""
    eventually(lambda: task_state(api, run_id, "review_model") == "awaiting_input",
               f"{run_id} awaiting approval", timeout=420, every=1)
    parked = f"TaskInstance Finished: dag_id={DAG_ID}, task_id=review_model, run_id={run_id}, "
    eventually(lambda: any(line.startswith(parked, line.find("TaskInstance Finished")) and "state=awaiting_input" in line
                           for line in (stack.home / "logs" / "scheduler.log").read_text(errors="replace").splitlines()),
               f"the scheduler seeing {run_id}'s question asked", timeout=120, every=0.5)
    return api.call(f"{run_url(run_id)}/taskInstances/review_model/-1/hitlDetails")


def answer(api, run_id: str, option: str, comment: str) -> dict:
    return api.call(f"{run_url(run_id)}/taskInstances/review_model/-1/hitlDetails", method="PATCH",
                    body={"chosen_options": [option], "params_input": {"comment": comment}})


def ended(api, run_id: str) -> dict:
    return eventually(lambda: (run := api.call(run_url(run_id)))["state"] in ("success", "failed") and run,
                      f"the end of {run_id}", timeout=420, every=1)


def scheduler_lines(stack, run_id: str) -> str:
    lines = (stack.home / "logs" / "scheduler.log").read_text(errors="replace").splitlines()
    return "\n".join(line[:400] for line in lines if run_id in line or "review_model" in line)[-6000:]


def package_of(api, stack_sagemaker, run_id: str) -> dict:
    metrics = api.call(f"{run_url(run_id)}/taskInstances/read_metrics/xcomEntries/return_value")["value"]
    return stack_sagemaker.describe_model_package(ModelPackageName=metrics["model_package_arn"])


@pytest.mark.timeout(1200)
def test_a_person_approves_one_model_rejects_another_and_a_third_unanswered_is_rejected(
        stack, api, stack_sagemaker) -> None:
    api.wait_for_dag(DAG_ID)
    api.call(f"/api/v2/dags/{DAG_ID}", body={"is_paused": False}, method="PATCH")
    # Unpaused, the DAG's scheduled run for the last complete day approves its model (auto mode): the champion.
    scheduled = eventually(lambda: api.call(f"/api/v2/dags/{DAG_ID}/dagRuns")["dag_runs"], "the scheduled run")[0]
    assert ended(api, scheduled["dag_run_id"])["state"] == "success", failures(api, [scheduled], dag_id=DAG_ID)
    assert task_state(api, scheduled["dag_run_id"], "approve_model") == "success"
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    first, second, third = (yesterday - timedelta(days=n) for n in (3, 2, 1))

    approved = trigger_on(api, first, {**MANUAL, "approval_timeout_hours": 1})
    question = awaiting_answer(stack, api, approved)
    assert question["subject"].startswith("Approve model package") and "RMSE" in question["subject"]
    assert "| champion | " in question["body"] and "| threshold | 70.0 |" in question["body"]
    assert question["options"] == ["Approve", "Reject"] and question["defaults"] == ["Reject"]
    [ask] = reports_about(stack, "[AWAITING APPROVAL]", approved)
    assert f"/dags/{DAG_ID}/runs/{approved}/tasks/review_model/required_actions" in urllib.parse.unquote(ask)
    assert answer(api, approved, "Approve", "checked the residuals")["responded_by"]["name"] == ADMIN_USER
    run = ended(api, approved)
    assert run["state"] == "success", failures(api, [run], dag_id=DAG_ID)
    assert run["note"].startswith("**APPROVED**"), run["note"]
    package = package_of(api, stack_sagemaker, approved)
    assert package["ModelApprovalStatus"] == "Approved"
    assert f"approved in the Airflow UI by {ADMIN_USER}: checked the residuals" in package["ApprovalDescription"]

    # Two more days, at once: one rejected by a person, one nobody answers in time.
    rejected = trigger_on(api, second, {**MANUAL, "approval_timeout_hours": 1})
    unanswered = trigger_on(api, third, {**MANUAL, "approval_timeout_hours": 0.005})  # 18 s
    awaiting_answer(stack, api, rejected)
    answer(api, rejected, "Reject", "the feed looks off")
    for run_id, why in ((rejected, f"rejected in the Airflow UI by {ADMIN_USER}: the feed looks off"),
                        (unanswered, "no answer in the Airflow UI within 0.005 h: rejected")):
        run = ended(api, run_id)
        assert run["state"] == "success", failures(api, [run], dag_id=DAG_ID) + scheduler_lines(stack, run_id)
        assert run["note"].startswith("**REJECTED**"), run["note"]
        assert task_state(api, run_id, "approve_model") == "skipped"
        package = package_of(api, stack_sagemaker, run_id)
        assert package["ModelApprovalStatus"] == "Rejected" and why in package["ApprovalDescription"], package
    api.call(f"/api/v2/dags/{DAG_ID}", body={"is_paused": True}, method="PATCH")
