"""DataDayTimetable: a run triggered for a day trains on that day, whatever time of day the cron runs at."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pendulum
import pytest
from airflow_sagemaker_pipelines.timetables import DataDayTimetable, data_day_of_run_id


@pytest.mark.parametrize("cron", ["0 0 * * *", "0 2 * * *", "30 23 * * *", "@daily"])
def test_a_run_triggered_for_a_past_day_trains_on_that_day(cron: str) -> None:
    timetable = DataDayTimetable(cron, timezone="UTC")
    for run_after in (pendulum.datetime(2024, 3, 1), pendulum.datetime(2024, 3, 1, 1, 30),
                      pendulum.datetime(2024, 3, 1, 23, 59)):
        interval = timetable.infer_manual_data_interval(run_after=run_after)
        assert interval.start.date() == date(2024, 3, 1), (cron, run_after, interval)
        assert interval.end - interval.start == timedelta(days=1)


@pytest.mark.parametrize("cron", ["0 0 * * *", "0 2 * * *"])
def test_a_run_triggered_now_trains_on_the_last_complete_interval(cron: str) -> None:
    timetable = DataDayTimetable(cron, timezone="UTC")
    now = pendulum.instance(datetime.now(UTC))
    interval = timetable.infer_manual_data_interval(run_after=now)
    assert interval.end <= now
    assert now - interval.end < timedelta(days=1)


def test_run_ids_start_with_the_data_day() -> None:
    from airflow.utils.types import DagRunType

    timetable = DataDayTimetable("0 2 * * *", timezone="UTC")
    interval = timetable.infer_manual_data_interval(run_after=pendulum.datetime(2024, 3, 1))
    run_id = timetable.generate_run_id(run_type=DagRunType.MANUAL, run_after=pendulum.datetime(2024, 3, 1),
                                       data_interval=interval)
    assert data_day_of_run_id(run_id) == "2024-03-01"


@pytest.mark.parametrize("cron", ["0 * * * *", "0 0 * * 1", "*/5 0 * * *", "@hourly"])
def test_a_cron_that_is_not_daily_is_refused_by_name(cron: str) -> None:
    with pytest.raises(ValueError, match="expected a daily cron expression"):
        DataDayTimetable(cron, timezone="UTC")


@pytest.mark.parametrize("cron", ["0 0 * * *", "30 2 * * *", "59 23 * * *"])
def test_the_scheduled_run_id_of_a_day_is_the_one_the_scheduler_gives_that_days_run(cron: str) -> None:
    from airflow.timetables.base import DataInterval, TimeRestriction
    from airflow.utils.types import DagRunType

    timetable = DataDayTimetable(cron, timezone="UTC")
    day = date(2024, 3, 1)
    before = timetable.infer_manual_data_interval(run_after=pendulum.datetime(2024, 2, 29))
    info = timetable.next_dagrun_info(last_automated_data_interval=DataInterval(before.start, before.end),
                                      restriction=TimeRestriction(earliest=None, latest=None, catchup=True))
    assert info is not None and info.data_interval.start.date() == day
    scheduled = timetable.generate_run_id(run_type=DagRunType.SCHEDULED, run_after=info.run_after,
                                          data_interval=info.data_interval)
    assert timetable.scheduled_run_id(day) == scheduled and data_day_of_run_id(scheduled) == "2024-03-01"
