"""Which version the endpoint served when, from the deploy runs, and how the page draws it on a time axis."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from airflow_sagemaker_pipelines.ui.pages import endpoint_timeline
from airflow_sagemaker_pipelines.ui.run_history import EndpointEvent, on_days, served_periods

NOW = datetime(2026, 3, 20, 12, tzinfo=UTC)


def event(version: int, outcome: str, ended: str | None, day: str | None = None, **more: Any) -> EndpointEvent:
    return {"dag_id": "deploy", "run_id": f"run-{version}-{outcome}", "day": day or (ended or "")[:10] or None,
            "ended": ended, "outcome": outcome, "model_package_version": version, "drifted_features": [],
            "served_from": None, "served_to": None, **more}


def deploy_history() -> list[EndpointEvent]:
    return served_periods([
        event(1, "deployed", "2026-03-01T06:00:00+00:00"),
        event(2, "rolled_back", "2026-03-05T06:00:00+00:00"),  # v2 failed its smoke test: v1 kept serving
        event(3, "deployed", "2026-03-10T06:00:00+00:00"),
        event(3, "unchanged", "2026-03-11T06:00:00+00:00"),
        event(4, "failed", "2026-03-12T06:00:00+00:00"),
        event(5, "deployed", None),  # still running
    ])


def test_a_deployed_version_serves_until_the_next_deployed_one_and_other_deploys_change_nothing() -> None:
    served = {(e["model_package_version"], e["outcome"]): (e["served_from"], e["served_to"]) for e in deploy_history()}
    assert served[(1, "deployed")] == ("2026-03-01T06:00:00+00:00", "2026-03-10T06:00:00+00:00")
    assert served[(3, "deployed")] == ("2026-03-10T06:00:00+00:00", None)  # serving now
    for unchanged in ((2, "rolled_back"), (3, "unchanged"), (4, "failed"), (5, "deployed")):
        assert served[unchanged] == (None, None), unchanged


def test_a_date_range_keeps_the_versions_served_during_it_even_when_deployed_before_it() -> None:
    kept = on_days(deploy_history(), date(2026, 3, 6), date(2026, 3, 8))
    assert [(e["model_package_version"], e["outcome"]) for e in kept] == [(1, "deployed")]
    later = on_days(deploy_history(), date(2026, 3, 11), None)
    assert [(e["model_package_version"], e["outcome"]) for e in later] == [
        (3, "deployed"), (3, "unchanged"), (4, "failed")]


def test_the_timeline_draws_a_band_per_served_version_end_to_end_and_crosses_the_deploys_that_changed_nothing() -> None:
    monitoring = [event(3, "data_ok", None, day="2026-03-14"),
                  event(3, "data_drift", None, day="2026-03-15", drifted_features=["age"])]
    svg = endpoint_timeline(deploy_history(), monitoring, NOW)

    bands = re.findall(r"<rect class='served' x='([\d.]+)' y='14' width='([\d.]+)'.*?<title>([^<]+)</title>", svg)
    assert [title.split()[0] for *_, title in bands] == ["v1", "v3"]
    (v1_x, v1_width, _), (v3_x, v3_width, v3_title) = [(float(a), float(b), t) for a, b, t in bands]
    assert abs(v1_x + v1_width - v3_x) < 0.2  # v3 takes over where v1 ends
    assert abs(v3_x + v3_width - 880) < 0.2 and v3_title.endswith("to now")  # serving up to now, the right edge
    assert "v2 rolled back at 2026-03-05T06:00" in svg and "v4 failed at 2026-03-12T06:00" in svg
    assert svg.count("class='rolled-back-deploy'") == svg.count("class='failed-deploy'") == 1

    squares = re.findall(r"<rect class='monitored-day' x='([\d.]+)'.*?fill='(#\w+)'><title>([^<]+)</title>", svg)
    assert [title for *_, title in squares] == ["2026-03-14 data ok", "2026-03-15 data drift age"]
    assert v3_x < float(squares[0][0]) < float(squares[1][0])


def test_no_deployment_and_no_monitoring_draw_no_timeline() -> None:
    assert served_periods([]) == [] and served_periods([event(1, "failed", "2026-03-01T06:00:00+00:00")])[0][
        "served_from"] is None
    assert endpoint_timeline([], [], NOW) == ""
    assert endpoint_timeline([event(1, "deployed", None)], [], NOW) == ""  # a deploy still running served nothing yet
