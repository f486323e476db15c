"""The Airflow UI in headless Chromium, as a person uses it: log in, read the doc, trigger, follow the run,
approve or reject a model.

Screenshots go to `.artifacts/ui/` (git-ignored). The browser reaches only the stack on
127.0.0.1: the AWS console is answered by a stand-in page, and any other host is refused.
"""

from __future__ import annotations

import os
import re
import shutil
import time
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from devtools.local_airflow.environment import BUCKET, PROJECT_ROOT, REGION
from devtools.local_airflow.stack import ADMIN_USER
from tests.stack.runs import SEEDED_DAYS, eventually, failures, reports_about, run_path
from tests.support.constants import DAG_ID
from tests.support.declarations import REGRESSION

SCREENSHOTS = PROJECT_ROOT / ".artifacts" / "ui"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without the networking flags Chromium keeps calling Google hosts this machine cannot reach.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
AWS_CONSOLE = "https://console.aws.amazon.com/"
NOT_THE_STACK = re.compile(r"^(?!https?://127\.0\.0\.1[:/])[a-z-]+://")


@pytest.fixture(scope="module")
def browser_page(stack) -> Iterator:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed: .ci/run installs Debian's chromium")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        context.route(NOT_THE_STACK, answer_outside_requests)
        page = context.new_page()
        page.set_default_timeout(30_000)
        yield page
        browser.close()


def answer_outside_requests(route) -> None:
    """The console link must open the console; nothing may leave this machine."""
    if route.request.url.startswith(AWS_CONSOLE):
        route.fulfill(status=200, content_type="text/html",
                      body="<html><title>AWS console (stand-in)</title><body>AWS console stand-in</body></html>")
    else:
        route.abort()


@pytest.fixture(scope="module")
def signed_in_page(stack, browser_page):
    page = browser_page
    page.goto(stack.url)
    page.get_by_label("Username").fill(ADMIN_USER)
    page.get_by_label("Password").fill(stack.password)
    shot(page, "01-login")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{stack.url}/", timeout=20_000)
    return page


def shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def wait_for_run(api, run_id: str, timeout: float = 300, dag_id: str = DAG_ID) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = api.call(f"/api/v2/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id)}")["state"]
        if state in ("success", "failed"):
            return state
        time.sleep(2)
    raise TimeoutError(f"{run_id} not finished after {timeout:.0f} s")


def test_a_person_reads_the_doc_is_refused_a_bad_threshold_and_triggers_a_run(stack, api, signed_in_page) -> None:
    page = signed_in_page
    api.wait_for_dag(DAG_ID)

    page.get_by_role("link", name="Dags").first.click()  # the sidebar
    # The list, not the dashboard it replaces: the dashboard's recent task instances are links named by their DAG.
    page.wait_for_url(re.compile(rf"{re.escape(stack.url)}/dags/?(\?.*)?$"))
    # The DAG's own link: an asset-scheduled DAG's card links its last event's source task by the producer's id too.
    page.locator(f'a[href$="/dags/{DAG_ID}"]').first.click()
    page.wait_for_url(re.compile(rf"{re.escape(stack.url)}/dags/{DAG_ID}/?(\?.*)?$"))
    page.get_by_role("button", name="Dag Docs").click()
    docs = page.get_by_role("dialog")
    docs.get_by_text("Train the classification model with SageMaker Pipelines").wait_for()
    assert "ds=D" in docs.inner_text()
    shot(page, "02-dag-doc")
    page.keyboard.press("Escape")

    # The form clamps numbers to the schema; JSON conf reaches the API, which refuses it, and
    # the dialog shows the API's reason.
    page.get_by_role("button", name="Trigger Dag").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Minimum AUC").wait_for()
    dialog.get_by_text("Advanced Options").click()
    dialog.locator(".monaco-editor").first.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text('{"min_auc_threshold": 150}')
    with page.expect_response(lambda r: r.url.endswith(f"/dags/{DAG_ID}/dagRuns") and r.request.method == "POST") as refused:
        dialog.get_by_role("button", name="Trigger", exact=True).click()
    assert refused.value.status == 400
    assert "Invalid input for param min_auc_threshold: 150 is greater than the maximum of 100" in refused.value.json()["detail"]
    page.get_by_text("Failed to Trigger Dag").first.wait_for()  # a toast (the UI may show it twice)
    reason = dialog.get_by_text("Invalid input for param min_auc_threshold: 150 is greater than the maximum of 100")
    reason.scroll_into_view_if_needed()
    shot(page, "03-bad-threshold-refused")
    page.keyboard.press("Escape")

    page.reload()
    page.get_by_role("button", name="Trigger Dag").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Minimum AUC").wait_for()
    shot(page, "04-trigger-form")
    with page.expect_response(lambda r: r.url.endswith(f"/dags/{DAG_ID}/dagRuns") and r.request.method == "POST") as accepted:
        dialog.get_by_role("button", name="Trigger", exact=True).click()
    assert accepted.value.status == 200, accepted.value.text()
    run_id = accepted.value.json()["dag_run_id"]
    assert wait_for_run(api, run_id) == "success"

    page.goto(f"{stack.url}/dags/{DAG_ID}/runs/{urllib.parse.quote(run_id)}")
    page.get_by_text(run_id).first.wait_for()
    shot(page, "05-run-succeeded")


def test_a_person_opens_the_console_link_and_reads_the_step_lines_in_the_wait_log(
        stack, api, signed_in_page, stack_sagemaker) -> None:
    page = signed_in_page
    api.wait_for_dag(DAG_ID)
    api.call(f"/api/v2/dags/{DAG_ID}", body={"is_paused": False}, method="PATCH")
    run_id = api.call(f"/api/v2/dags/{DAG_ID}/dagRuns", body={"logical_date": None, "conf": {}})["dag_run_id"]
    assert wait_for_run(api, run_id) == "success"
    run_path = f"/dags/{DAG_ID}/runs/{urllib.parse.quote(run_id)}"  # in the UI
    execution_arn = api.call(f"/api/v2/dags/{DAG_ID}/dagRuns/{urllib.parse.quote(run_id)}"
                             "/taskInstances/start_execution/xcomEntries/return_value")["value"]
    execution = stack_sagemaker.describe_pipeline_execution(PipelineExecutionArn=execution_arn)
    assert execution["PipelineExecutionStatus"] == "Succeeded"
    pipeline_name, execution_id = execution_arn.split(":pipeline/")[1].split("/execution/")

    page.goto(f"{stack.url}{run_path}/tasks/start_execution/details")
    page.get_by_text("Extra Links").wait_for()
    shot(page, "06-start-task-extra-links")
    with page.context.expect_page() as opened:
        page.get_by_role("link", name="SageMaker Pipeline Execution").click()
    console = opened.value
    console.wait_for_load_state()
    assert console.url == (f"{AWS_CONSOLE}sagemaker/home?region={REGION}"
                           f"#/pipelines/{pipeline_name}/executions/{execution_id}")
    console.get_by_text("AWS console stand-in").wait_for()
    console.close()

    page.goto(f"{stack.url}{run_path}/tasks/wait_for_execution")
    for step in ("PreprocessData", "TrainModel", "EvaluateModel", "CheckModelQuality", "RegisterModel"):
        page.get_by_text(re.compile(rf"Step {step}: .*Succeeded")).first.wait_for()
    # The poll may miss the short Executing state on a loaded machine: any transition into Succeeded.
    page.get_by_text(re.compile(r"Step TrainModel: (\w+ -> )?Succeeded \[TrainingJob trainmodel-")).first.wait_for()
    shot(page, "07-wait-task-step-log")


def trigger_for_day(api, day: str, conf: dict | None = None) -> tuple[int, dict]:
    """POST a run for a logical date (the data day); the API's status and answer."""
    import json
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        f"{api.stack.url}/api/v2/dags/{DAG_ID}/dagRuns", method="POST",
        data=json.dumps({"logical_date": f"{day}T00:00:00Z", "conf": conf or {}}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {api.token}"})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_person_sees_each_runs_data_day_and_outcome_first_and_the_reason_of_a_failure(
        stack, api, signed_in_page) -> None:
    from datetime import UTC, datetime, timedelta

    page = signed_in_page
    api.wait_for_dag(DAG_ID)
    api.call(f"/api/v2/dags/{DAG_ID}", body={"is_paused": False}, method="PATCH")
    today = datetime.now(UTC).date()
    # A seeded day (the stack seeds SEEDED_DAYS up to yesterday) no backfill or scheduled run of this stack has
    # (test_backfill.py's are up to 8 days ago; a day has one run per logical date).
    seeded, missing = (today - timedelta(days=SEEDED_DAYS)).isoformat(), (today - timedelta(days=40)).isoformat()

    status, early = trigger_for_day(api, "2019-01-01")  # before the DAG's first day of data
    assert status == 200, early
    status, good = trigger_for_day(api, seeded, {"wait_for_data_minutes": 0})  # were it empty: fail, not wait
    assert status == 200, good
    status, empty = trigger_for_day(api, missing, {"wait_for_data_minutes": 0})
    assert status == 200, empty
    assert good["dag_run_id"].startswith(f"manual__data-{seeded}__")
    assert (wait_for_run(api, good["dag_run_id"]), wait_for_run(api, empty["dag_run_id"]),
            wait_for_run(api, early["dag_run_id"])) == ("success", "failed", "failed")  # never an empty success

    runs = {r["dag_run_id"]: r for r in api.call(f"/api/v2/dags/{DAG_ID}/dagRuns?limit=100")["dag_runs"]}
    assert runs[good["dag_run_id"]]["note"].startswith((f"**APPROVED** · data {seeded} · AUC ",
                                                         f"**NOT PROMOTED** · data {seeded} · AUC "))
    reason = (f"**FAILED** at choose_partition · data {missing}: No data for {missing} at "
              f"s3://ml-pipeline-data/raw-data/ds={missing}/: the partition is empty or missing")
    assert runs[empty["dag_run_id"]]["note"] == reason
    assert runs[early["dag_run_id"]]["note"].startswith(
        "**FAILED** at choose_partition · data 2019-01-01: The data starts on 2024-01-01: 2019-01-01 is before it")

    page.goto(f"{stack.url}/dags/{DAG_ID}/runs")
    page.get_by_text(f"manual__data-{seeded}__").first.wait_for()
    page.get_by_text(f"manual__data-{missing}__").first.wait_for()
    shot(page, "08-runs-named-by-data-day")
    page.goto(f"{stack.url}/dags/{DAG_ID}/runs/{urllib.parse.quote(empty['dag_run_id'])}")
    page.get_by_text(re.compile(rf"FAILED.* at choose_partition · data {missing}: No data for {missing}")).first.wait_for()
    shot(page, "09-failed-run-says-why")


def test_a_person_sees_the_deploy_run_that_an_approval_started(stack, api, signed_in_page) -> None:
    """The approval's asset event starts the deploy DAG under the scheduler: the model behind its endpoint."""
    import json
    from datetime import UTC, datetime, timedelta

    from tests.support.declarations import CLASSIFICATION

    page, deploy = signed_in_page, CLASSIFICATION.deploy.dag_id  # type: ignore[union-attr]
    for dag_id in (DAG_ID, deploy):
        api.wait_for_dag(dag_id)
        api.call(f"/api/v2/dags/{dag_id}", body={"is_paused": False}, method="PATCH")
    variable = CLASSIFICATION.settings_variable
    saved = api.call(f"/api/v2/variables/{variable}")["value"]
    # A registry group of its own: no champion yet, so the run's model is approved whatever ran before.
    fresh = {**json.loads(saved), "model_package_group": "ui-deploy-models"}
    api.call(f"/api/v2/variables/{variable}", body={"key": variable, "value": json.dumps(fresh)}, method="PATCH")
    try:
        day = (datetime.now(UTC).date() - timedelta(days=SEEDED_DAYS - 1)).isoformat()
        status, training = trigger_for_day(api, day, {"wait_for_data_minutes": 0})
        assert status == 200, training
        assert wait_for_run(api, training["dag_run_id"]) == "success"
        deploys = eventually(lambda: [run for run in api.call(f"/api/v2/dags/{deploy}/dagRuns")["dag_runs"]
                                      if run["run_type"] == "asset_triggered"], "a deploy run started by the approval")
        # Unpaused, the training DAG also ran its latest scheduled day: one or two approvals, deployed in turn.
        assert {wait_for_run(api, run["dag_run_id"], dag_id=deploy) for run in deploys} == {"success"}
        notes = [api.call(f"/api/v2/dags/{deploy}/dagRuns/{urllib.parse.quote(run['dag_run_id'])}")["note"]
                 for run in deploys]
        deployed = [run for run, note in zip(deploys, notes, strict=True) if re.match(
            r"\*\*DEPLOYED\*\* · data \d{4}-\d{2}-\d{2} · AUC 0\.\d{4} · package ui-deploy-models/\d+ \(Approved\)",
            note)]
        assert deployed, notes

        page.goto(f"{stack.url}/dags/{deploy}/runs/{urllib.parse.quote(deployed[0]['dag_run_id'])}")
        page.get_by_text(re.compile(r"DEPLOYED.* · data .* ui-deploy-models/")).first.wait_for()
        shot(page, "10-deploy-run-started-by-the-approval")
    finally:
        api.call(f"/api/v2/variables/{variable}", body={"key": variable, "value": saved}, method="PATCH")
        api.call(f"/api/v2/dags/{deploy}", body={"is_paused": True}, method="PATCH")


REVIEWED_DAG_ID = REGRESSION.dag_id  # no other stack test uses it: its registry group is this test's alone
MANUAL = {"approval_mode": "manual", "champion_margin": 50}  # a margin the rules approve each day with


def run_url(run_id: str) -> str:
    return run_path(run_id, REVIEWED_DAG_ID)


def trigger_on(api, day, conf: dict) -> str:
    """A run for the last complete day, on the data of `day` (a fingerprint of its own: the rules compare it)."""
    body = {"logical_date": None, "conf": {**conf, "input_data_url": f"s3://{BUCKET}/{REGRESSION.data_prefix}/ds={day}/"}}
    return api.call(f"/api/v2/dags/{REVIEWED_DAG_ID}/dagRuns", body=body)["dag_run_id"]


def task_state(api, run_id: str, task_id: str) -> str | None:
    return api.call(f"{run_url(run_id)}/taskInstances/{task_id}")["state"]


def awaiting_answer(stack, api, run_id: str) -> dict:
    """The question, once the run's review_model waits for a person and the scheduler has seen the process that
    asked end. An answer before that, within about a second, as no person gives one, meets Airflow 3.3.2's
    resume race (apache/airflow#67287): the resumed task is queued when the executor reports the asking
    process's end, and the scheduler fails it as a task that died."""
    eventually(lambda: task_state(api, run_id, "review_model") == "awaiting_input",
               f"{run_id} awaiting approval", timeout=420, every=1)
    parked = f"TaskInstance Finished: dag_id={REVIEWED_DAG_ID}, task_id=review_model, run_id={run_id}, "
    eventually(lambda: any(line.startswith(parked, line.find("TaskInstance Finished")) and "state=awaiting_input" in line
                           for line in (stack.home / "logs" / "scheduler.log").read_text(errors="replace").splitlines()),
               f"the scheduler seeing {run_id}'s question asked", timeout=120, every=0.5)
    return api.call(f"{run_url(run_id)}/taskInstances/review_model/-1/hitlDetails")


def ended(api, run_id: str) -> dict:
    return eventually(lambda: (run := api.call(run_url(run_id)))["state"] in ("success", "failed") and run,
                      f"the end of {run_id}", timeout=420, every=1)


def package_of(api, stack_sagemaker, run_id: str) -> dict:
    metrics = api.call(f"{run_url(run_id)}/taskInstances/read_metrics/xcomEntries/return_value")["value"]
    return stack_sagemaker.describe_model_package(ModelPackageName=metrics["model_package_arn"])


@pytest.mark.timeout(1200)
def test_a_person_approves_one_model_rejects_another_in_the_ui_and_a_third_unanswered_is_rejected(
        stack, api, signed_in_page, stack_sagemaker) -> None:
    page = signed_in_page
    api.wait_for_dag(REVIEWED_DAG_ID)
    api.call(f"/api/v2/dags/{REVIEWED_DAG_ID}", body={"is_paused": False}, method="PATCH")
    # Unpaused, the DAG's scheduled run for the last complete day approves its model (auto mode): the champion.
    scheduled = eventually(lambda: api.call(f"/api/v2/dags/{REVIEWED_DAG_ID}/dagRuns")["dag_runs"],
                           "the scheduled run")[0]
    assert ended(api, scheduled["dag_run_id"])["state"] == "success", failures(api, [scheduled],
                                                                             dag_id=REVIEWED_DAG_ID)
    assert task_state(api, scheduled["dag_run_id"], "approve_model") == "success"
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    first, second, third = (yesterday - timedelta(days=n) for n in (3, 2, 1))

    approved = trigger_on(api, first, {**MANUAL, "approval_timeout_hours": 1})
    question = awaiting_answer(stack, api, approved)
    assert question["subject"].startswith("Approve model package") and "RMSE" in question["subject"]
    assert "| champion | " in question["body"] and "| threshold | 70.0 |" in question["body"]
    assert question["options"] == ["Approve", "Reject"] and question["defaults"] == ["Reject"]
    [ask] = reports_about(stack, "[AWAITING APPROVAL]", approved)
    link = re.search(r"https?://\S+/required_actions\S*", ask)
    assert link and f"/dags/{REVIEWED_DAG_ID}/runs/" in link[0], ask
    answer_in_the_ui(page, link[0], "Approve", "checked the residuals", "08-review-approve")
    run = ended(api, approved)
    assert run["state"] == "success", failures(api, [run], dag_id=REVIEWED_DAG_ID)
    assert run["note"].startswith("**APPROVED**"), run["note"]
    package = package_of(api, stack_sagemaker, approved)
    assert package["ModelApprovalStatus"] == "Approved"
    assert f"approved in the Airflow UI by {ADMIN_USER}: checked the residuals" in package["ApprovalDescription"]

    # Two more days, at once: one rejected by a person, one nobody answers in time.
    rejected = trigger_on(api, second, {**MANUAL, "approval_timeout_hours": 1})
    unanswered = trigger_on(api, third, {**MANUAL, "approval_timeout_hours": 0.005})  # 18 s
    awaiting_answer(stack, api, rejected)
    answer_in_the_ui(page, f"{stack.url}/dags/{REVIEWED_DAG_ID}/runs/{urllib.parse.quote(rejected)}/tasks/"
                           "review_model/required_actions", "Reject", "the feed looks off", "09-review-reject")
    for run_id, why in ((rejected, f"rejected in the Airflow UI by {ADMIN_USER}: the feed looks off"),
                        (unanswered, "no answer in the Airflow UI within 0.005 h: rejected")):
        run = ended(api, run_id)
        assert run["state"] == "success", failures(api, [run], dag_id=REVIEWED_DAG_ID)
        assert run["note"].startswith("**REJECTED**"), run["note"]
        assert task_state(api, run_id, "approve_model") == "skipped"
        package = package_of(api, stack_sagemaker, run_id)
        assert package["ModelApprovalStatus"] == "Rejected" and why in package["ApprovalDescription"], package
    api.call(f"/api/v2/dags/{REVIEWED_DAG_ID}", body={"is_paused": True}, method="PATCH")


def answer_in_the_ui(page, url: str, option: str, comment: str, screenshot: str) -> None:
    """Open the run's Required actions (the report's link), write the comment, click the option."""
    page.goto(url)
    page.get_by_text("Approve model package").first.wait_for()
    page.locator("#element_comment").fill(comment)  # the form's field of the Param "comment"
    page.get_by_test_id(f"hitl-option-{option}").scroll_into_view_if_needed()
    shot(page, screenshot)
    with page.expect_response(lambda r: r.url.endswith("/hitlDetails") and r.request.method == "PATCH") as sent:
        page.get_by_test_id(f"hitl-option-{option}").click()
    assert sent.value.status == 200, sent.value.text()


def test_a_person_reads_the_model_quality_page_clicks_a_day_and_opens_the_runs_execution_tab(
        stack, api, signed_in_page, request) -> None:
    import json
    import urllib.error
    import urllib.request

    page = signed_in_page
    # What the page should show: every run of the training DAG that read its metrics (earlier tests ran them),
    # once no run is going (paused: no scheduled run starts while the page is counted).
    api.call(f"/api/v2/dags/{DAG_ID}", body={"is_paused": True}, method="PATCH")
    request.addfinalizer(lambda: api.call(f"/api/v2/dags/{DAG_ID}", body={"is_paused": False}, method="PATCH"))
    runs = eventually(lambda: (lambda listed: listed if all(r["state"] in ("success", "failed") for r in listed)
                               else None)(api.call(f"/api/v2/dags/{DAG_ID}/dagRuns?limit=100")["dag_runs"]),
                      "every training run ended", timeout=300)
    measured = [run["dag_run_id"] for run in runs if any(
        ti["task_id"] == "read_metrics" and ti["state"] == "success"
        for ti in api.call(f"/api/v2/dags/{DAG_ID}/dagRuns/{urllib.parse.quote(run['dag_run_id'])}/taskInstances")[
            "task_instances"])]
    assert measured, "the earlier tests of this module ran training runs"
    found = api.call(f"/sagemaker-pipelines/api/dags/{DAG_ID}/model-quality")
    assert found["metric"] == "auc"
    assert {p["run_id"] for p in found["points"] if p["value"] is not None} == set(measured)

    page.goto(f"{stack.url}/plugin/model-quality")  # the navigation's "Model quality" page
    frame = page.frame_locator("iframe[title='Model quality']")
    frame.get_by_role("link", name=DAG_ID).click()
    points = frame.locator("a.point")
    points.first.wait_for()
    assert points.count() == len(measured)
    served = [deployment for deployment in found["deployments"] if deployment["served_from"]]
    assert frame.locator("svg.endpoint-timeline rect.served").count() == len(served)  # the endpoint's own axis
    shot(page, "10-model-quality")
    points.first.click()  # a day's mark opens its run's execution
    frame.get_by_text("Timeline").wait_for()
    assert frame.locator("svg[aria-label='step timeline'] rect").count() >= 4
    shot(page, "11-model-quality-run")

    page.goto(f"{stack.url}/dags/{DAG_ID}/runs/{urllib.parse.quote(measured[0])}/plugin/sagemaker-execution")
    tab = page.frame_locator("iframe[title='SageMaker execution']")
    tab.get_by_text("PreprocessData").first.wait_for()
    tab.get_by_text("CheckModelQuality").first.wait_for()
    assert tab.locator("svg[aria-label='step timeline']").count() == 1
    shot(page, "12-sagemaker-execution-tab")

    with pytest.raises(urllib.error.HTTPError) as refused:  # no token, no page
        urllib.request.urlopen(f"{stack.url}/sagemaker-pipelines/api/dags/{DAG_ID}/model-quality", timeout=30)
    assert refused.value.code == 401, json.dumps(refused.value.read().decode())
