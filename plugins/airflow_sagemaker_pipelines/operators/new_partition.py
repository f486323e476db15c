"""Which partition a new-data run trains on: the newest day its S3 notifications announce (or the form's day)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowFailException
from airflow.sdk import BaseOperator

from ..payloads import NewPartition
from ..s3_notifications import merge_days
from ..timetables import DataDayTimetable
from .data_partition import given_day

if TYPE_CHECKING:
    from airflow.sdk import Context


class ReadNewPartitionOperator(BaseOperator):
    """Returns a NewPartition: the day to train on and the run whose execution it is.

    The scheduler folds the asset events that arrive before a run starts into that run, so a run may
    be told of several days: it trains on the newest, and names the others (their own scheduled runs
    train them, and a backfill can). The execution belongs to the training DAG's scheduled run for
    the day (`execution_of`): that run, this one and every later notification of the day share one
    SageMaker execution.

    :param training_dag_id: the training DAG whose scheduled runs own the executions.
    :param cron: the training DAG's daily cron (its scheduled run ids derive from it).
    :param data_day: a day given by hand, for a run triggered without notifications (templated; YYYY-MM-DD).
    """

    template_fields: Sequence[str] = ("data_day",)

    def __init__(self, *, training_dag_id: str, cron: str, data_day: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("multiple_outputs", True)
        super().__init__(**kwargs)
        self.training_dag_id = training_dag_id
        self.cron = cron
        self.data_day = data_day

    def execute(self, context: Context) -> NewPartition:
        announced = self._announced(context)
        if self.data_day:
            day = given_day(self.data_day).isoformat()
            announced.setdefault(day, [])
        elif announced:
            day = max(announced)
        else:
            raise AirflowFailException("No new partition: this run was started neither by an S3 notification nor "
                                       "with a day (trigger it with data_day, YYYY-MM-DD, in the form)")
        others = sorted(d for d in announced if d != day)
        owner = DataDayTimetable(self.cron, timezone="UTC").scheduled_run_id(date.fromisoformat(day))
        self.log.info("Training on %s (%d new objects); the execution is that of %s run %s", day,
                      len(announced[day]), self.training_dag_id, owner)
        if others:
            self.log.warning("Also announced, not trained by this run: %s (their scheduled runs train them)",
                             ", ".join(others))
        return {"data_day": day, "keys": sorted(announced[day]), "other_days": others,
                "execution_of": {"dag_id": self.training_dag_id, "run_id": owner}}

    @staticmethod
    def _announced(context: Context) -> dict[str, list[str]]:
        """Every day the run's asset events announce, with their keys."""
        days: dict[str, list[str]] = {}
        for events in (context.get("triggering_asset_events") or {}).values():
            for event in events:
                payload = (getattr(event, "extra", None) or {}).get("payload") or {}
                merge_days(days, payload.get("partitions") or {})
        return days
