"""The model-quality pages' API, in process on the test's Airflow database and the local endpoint: the JSON shapes,
an empty history, a failed execution with its step's log, and Airflow's auth (no token, a DAG the user may not read)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from tests.support.constants import PIPELINE_DAY
from tests.support.seeded_runs import FIRST_DAY

DAG_ID = "sagemaker_training_pipeline"


def test_an_unauthenticated_request_is_refused(client) -> None:
    anonymous = {"Authorization": ""}
    for path in ("/model-quality", f"/api/dags/{DAG_ID}/model-quality", f"/dags/{DAG_ID}/model-quality",
                 f"/api/dags/{DAG_ID}/runs/some-run/execution"):
        assert client.get(path, headers=anonymous).status_code == 401, path


@pytest.fixture
def two_teams(airflow_environment: None) -> Iterator[dict[str, str]]:
    """Two training DAGs, each in its team's bundle (Airflow's multi-team mode): {team: dag_id}."""
    from airflow.models.dag import DagModel, DagTag
    from airflow.models.dagbundle import DagBundleModel
    from airflow.models.team import Team
    from airflow.utils.session import create_session
    from sqlalchemy import delete

    dags = {"fraud": "fraud_team_training", "ml": "ml_team_training"}
    with create_session() as session:
        for team, dag_id in dags.items():
            bundle = DagBundleModel(name=f"{team}-dags")
            bundle.teams.append(Team(name=team))
            session.add(bundle)
            session.flush()
            session.add(DagModel(dag_id=dag_id, bundle_name=bundle.name, description=f"{team} training"))
            session.flush()
            session.add_all([DagTag(name="sagemaker", dag_id=dag_id), DagTag(name="training", dag_id=dag_id)])
    yield dags
    with create_session() as session:
        session.execute(delete(DagTag).where(DagTag.dag_id.in_(dags.values())))
        session.execute(delete(DagModel).where(DagModel.dag_id.in_(dags.values())))
        session.execute(delete(DagBundleModel).where(DagBundleModel.name.in_([f"{team}-dags" for team in dags])))
        session.execute(delete(Team).where(Team.name.in_(dags)))


def test_a_user_reads_only_the_pages_of_their_teams_dags(client, two_teams) -> None:
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    analyst = {"Authorization": "Bearer " + client.token_for(
        SimpleAuthManagerUser(username="analyst", role="viewer", teams=["fraud"]))}
    listed = client.get("/model-quality", headers=analyst).text
    assert "fraud_team_training" in listed and "ml_team_training" not in listed
    for path in ("/api/dags/{}/model-quality", "/dags/{}/model-quality", "/dags/{}/runs/some-run/execution"):
        assert client.get(path.format("ml_team_training"), headers=analyst).status_code == 403, path
    assert client.get("/api/dags/fraud_team_training/model-quality", headers=analyst).status_code == 200
    admin = client.get("/model-quality").text  # an admin reads every team's
    assert "fraud_team_training" in admin and "ml_team_training" in admin


def test_an_empty_history_is_an_empty_list_and_a_page_that_says_so(client) -> None:
    found = client.get("/api/dags/never_ran/model-quality")
    assert found.status_code == 200 and found.json() == {"dag_id": "never_ran", "metric": None, "points": [],
                                                         "model_package_group": None, "deployments": [],
                                                         "monitoring": []}
    page = client.get("/dags/never_ran/model-quality")
    assert page.status_code == 200 and "No run in this range yet." in page.text
    assert "started no SageMaker execution" in client.get("/dags/never_ran/runs/nothing/execution").text


def test_each_run_is_a_point_with_its_day_metric_decision_and_package(
        client, run_training_dag, deployment, endpoint_client, day_uri) -> None:
    approved = run_training_dag()
    # dag.test() replaces a run of the same logical date: the second run is the next day's, on the same data.
    gate = run_training_dag(day=PIPELINE_DAY + timedelta(days=1), conf={"min_auc_threshold": 0.99,
                                                                        "input_data_url": day_uri})
    assert approved.state == gate.state == "success"

    found = client.get(f"/api/dags/{DAG_ID}/model-quality").json()
    assert found["metric"] == "auc"
    points = {point["run_id"]: point for point in found["points"]}
    first, second = points[approved.run_id], points[gate.run_id]
    evaluation = approved.xcoms[("read_metrics", "return_value")]
    assert first["data_day"] == PIPELINE_DAY.isoformat() and first["outcome"] == "approved"
    assert first["value"] == evaluation["metrics"]["auc"] and first["threshold"] == 0.7
    assert first["model_package_version"] == 1 and first["execution_status"] == "Succeeded"
    assert first["duration_seconds"] > 0 and first["console_url"].startswith("https://")
    assert second["data_day"] == (PIPELINE_DAY + timedelta(days=1)).isoformat()
    assert second["outcome"] == "gate_failed" and second["threshold"] == 0.99
    assert second["execution_status"] == "Failed" and second["model_package_version"] is None

    # The test session's database holds other tests' runs of the DAG too: only these two are known here.
    gated = client.get(f"/api/dags/{DAG_ID}/model-quality?outcome=gate_failed").json()["points"]
    assert gate.run_id in {p["run_id"] for p in gated} and approved.run_id not in {p["run_id"] for p in gated}
    assert {p["outcome"] for p in gated} == {"gate_failed"}
    assert client.get(f"/api/dags/{DAG_ID}/model-quality?from=2099-01-01").json()["points"] == []
    assert client.get(f"/api/dags/{DAG_ID}/model-quality?from=yesterday").status_code == 422

    page = client.get(f"/dags/{DAG_ID}/model-quality").text
    measured = [p for p in client.get(f"/api/dags/{DAG_ID}/model-quality").json()["points"] if p["value"] is not None]
    assert page.count("class='point'") == len(measured) >= 2  # one mark per run with a metric
    assert page.count("class='champion-change'") == len([p for p in measured if p["outcome"] == "approved"]) >= 1
    assert f"/dags/{DAG_ID}/runs/{approved.run_id.replace(':', '%3A').replace('+', '%2B')}/execution" in page


def test_the_run_tab_shows_the_graph_the_branch_taken_and_the_timeline(client, run_training_dag, deployment) -> None:
    gate = run_training_dag(conf={"min_auc_threshold": 0.99})
    view = client.get(f"/api/dags/{DAG_ID}/runs/{gate.run_id}/execution").json()
    execution = view["execution"]
    assert execution["status"] == "Failed" and execution["failure_reason"].startswith("Model AUC")
    steps = {step["name"]: step for step in execution["steps"]}
    assert steps["CheckModelQuality"]["condition_outcome"] is False
    assert steps["ModelQualityTooLow"]["branch_of"] == "CheckModelQuality" and not steps["ModelQualityTooLow"]["on_branch"]
    assert steps["RegisterModel"]["status"] == "NotStarted" and steps["RegisterModel"]["on_branch"] is True
    assert "PreprocessData" in steps["TrainModel"]["depends_on"]
    assert steps["TrainModel"]["seconds"] > 0 and view["metrics"]["auc"] > 0
    page = client.get(f"/dags/{DAG_ID}/runs/{gate.run_id}/execution").text
    assert "took the else branch" in page and "(not taken)" in page and "aria-label='step timeline'" in page


def test_a_failed_step_shows_its_reason_and_its_last_log_lines(client, run_training_dag, deployment,
                                                                endpoint_client) -> None:
    endpoint_client("s3").put_object(Bucket=deployment.bucket, Key="broken/ds=2024-03-01/data.csv", Body=b"a,b\n1,2\n")
    failed = run_training_dag(conf={"input_data_url": f"s3://{deployment.bucket}/broken/ds=2024-03-01/"})
    assert failed.task_states["wait_for_execution"] == "failed"
    execution = client.get(f"/api/dags/{DAG_ID}/runs/{failed.run_id}/execution").json()["execution"]
    assert execution["failed_step"] == "PreprocessData"
    assert any("Input data error" in line for line in execution["failed_step_log"])
    assert "Input data error" in client.get(f"/dags/{DAG_ID}/runs/{failed.run_id}/execution").text


def test_ninety_days_of_history_are_ninety_points_in_day_order_filtered_without_an_aws_call(
        client, aws_calls, seeded_history) -> None:
    seeded_history(90, "ninety_days_training")
    found = client.get("/api/dags/ninety_days_training/model-quality").json()
    days = [point["data_day"] for point in found["points"]]
    assert len(days) == 90 and days == sorted(days) and days[0] == FIRST_DAY.date().isoformat()
    assert [point["outcome"] for point in found["points"][:3]] == ["approved", "rejected", "not_promoted"]
    assert [point["model_package_version"] for point in found["points"][:3]] == [1, 2, 3]
    assert found["model_package_group"] == "churn"

    week = client.get("/api/dags/ninety_days_training/model-quality?from=2024-02-01&to=2024-02-07").json()["points"]
    assert [point["data_day"] for point in week] == [f"2024-02-0{day}" for day in range(1, 8)]
    assert len(client.get("/api/dags/ninety_days_training/model-quality?outcome=rejected").json()["points"]) == 30
    page = client.get("/dags/ninety_days_training/model-quality").text
    assert page.count("class='point'") == 90 and page.count("class='champion-change'") == 30
    assert aws_calls == []  # the page is Airflow's database only
