"""Daily data-interval runs named by, and triggered for, the day of data they train on.

Airflow names a run by when it may start: the run for the data of 2024-03-01 starts once that day
is over, so its id says 2024-03-02 (`scheduled__2024-03-02T00:00:00+00:00`), and a run triggered
by hand for 2024-06-01 covers the day before, 2024-05-31. `DataDayTimetable` schedules exactly as
CronDataIntervalTimetable does, but:
- every run it names (scheduled, manual, backfill) has the data day first in its id:
  `scheduled__data-2024-03-01__2024-03-02T00:00:00+00:00`;
- a run triggered for a day that is over trains on that day; one triggered for a day not over yet
  (the trigger form's default is now) trains on the last complete day, as Airflow's would.
The plugin registers it (a custom timetable must be, to be serialized).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from airflow.timetables.interval import CronDataIntervalTimetable

RUN_ID_DAY_PREFIX = "data-"
_RUN_ID_DAY = re.compile(rf"__{RUN_ID_DAY_PREFIX}(\d{{4}}-\d{{2}}-\d{{2}})__")


def data_day_of_run_id(run_id: str) -> str | None:
    """The data day a run id of this timetable names (YYYY-MM-DD), or None for another run id."""
    match = _RUN_ID_DAY.search(run_id)
    return match[1] if match else None


class DataDayTimetable(CronDataIntervalTimetable):
    """A daily cron data-interval timetable: run ids start with the data day; a manual run's day is its own.

    :param cron: a daily cron expression (`M H * * *`); anything else is refused by name.
    :param timezone: the timezone the days are counted in.
    """

    def __init__(self, cron: str, timezone: Any) -> None:
        super().__init__(cron, timezone)
        fields = ("0 0 * * *" if cron in ("@daily", "@midnight") else cron).split()
        if len(fields) != 5 or fields[2:] != ["*", "*", "*"] or not all(f.isdigit() for f in fields[:2]):
            raise ValueError(f"DataDayTimetable({cron!r}): expected a daily cron expression such as '0 0 * * *' "
                             "(one run per day of data)")
        self.run_minute, self.run_hour = int(fields[0]), int(fields[1])

    def infer_manual_data_interval(self, *, run_after: Any) -> Any:
        """The day the run was triggered for, when it is over; else (today, the form's default) the last complete day."""
        # The interval that starts on the triggered day at the cron's time (a 02:00 cron's intervals run from
        # 02:00 to 02:00): it ends on the next day at that time.
        day_end = run_after.replace(hour=self.run_hour, minute=self.run_minute, second=0, microsecond=0)
        own_day = super().infer_manual_data_interval(run_after=day_end + timedelta(days=1))
        if own_day.end <= datetime.now(UTC):
            return own_day
        return super().infer_manual_data_interval(run_after=run_after)

    def scheduled_run_id(self, day: date) -> str:
        """The id of the scheduled run for a data day (whether or not it exists): the day's interval ends
        on the next day at the cron's time, when the run is due."""
        from airflow.utils.types import DagRunType

        due = datetime(day.year, day.month, day.day, self.run_hour, self.run_minute, tzinfo=UTC) + timedelta(days=1)
        return DagRunType.SCHEDULED.generate_run_id(suffix=f"{RUN_ID_DAY_PREFIX}{day.isoformat()}__{due.isoformat()}")

    def generate_run_id(self, *, run_type: Any, run_after: Any, data_interval: Any, **extra: Any) -> str:
        if data_interval is None:  # a run with no data interval: Airflow's own name
            return super().generate_run_id(run_type=run_type, run_after=run_after, data_interval=data_interval,
                                           **extra)
        day = data_interval.start.date().isoformat()
        return run_type.generate_run_id(suffix=f"{RUN_ID_DAY_PREFIX}{day}__{run_after.isoformat()}")
