"""The run's outcome on the run itself: a DAG run note written each time the run ends.

A run that rejected its model is as green as one that approved it; the note's first line says
which, with the data day, the AUC and the package (or, for a failure, where and why), in the grid
and the run's details. Tasks cannot write run notes through the task API, so this is a listener
(registered by the plugin): it runs in the scheduler when a run ends and writes the note a task
left in XCom under RUN_NOTE_KEY (the report task's, or a failure callback's). A run that ends
again (cleared) gets the note of its new end in place of the old one. What a person wrote is kept,
below the outcome.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from airflow.listeners import hookimpl

from .run_report import DRIFT_FACT, OUTCOME_TITLES

log = logging.getLogger(__name__)

RUN_NOTE_KEY = "run_note"
NOTE_MAX = 1000  # the API's limit on a run note
# What separates the outcome this listener writes from what a person wrote below it.
SEPARATOR = "\n\n---\n"
_OURS = re.compile(r"^\*\*(" + "|".join(map(re.escape, OUTCOME_TITLES.values())) + r")\*\*")
_OUTCOME_OF_TITLE = {title: outcome for outcome, title in OUTCOME_TITLES.items()}


def noted_outcome(note: str | None) -> str | None:
    """The outcome (an OUTCOME_TITLES key) a note of this listener starts with; None for any other note."""
    match = _OURS.match(note or "")
    return _OUTCOME_OF_TITLE[match.group(1)] if match else None


def noted_drift(note: str | None) -> list[str]:
    """The features a note's first line names as drifted (`DATA DRIFT: age, educ`); none when it names none."""
    first = (note or "").split("\n", 1)[0]
    if DRIFT_FACT not in first:
        return []
    return [feature.strip() for feature in first.split(DRIFT_FACT, 1)[1].split("·", 1)[0].split(",")]


def merged_note(existing: str | None, outcome: str) -> str:
    """`outcome` first; an earlier outcome of ours dropped, what a person wrote kept below the separator."""
    if not existing:
        return outcome[:NOTE_MAX]
    kept = existing.split(SEPARATOR, 1)[1] if _OURS.match(existing) and SEPARATOR in existing else (
        "" if _OURS.match(existing) else existing)
    if not kept:
        return outcome[:NOTE_MAX]
    room = NOTE_MAX - len(SEPARATOR) - len(kept)
    return (outcome[:max(room, 0)] + SEPARATOR + kept)[:NOTE_MAX] if room > 80 else outcome[:NOTE_MAX]


@hookimpl
def on_dag_run_success(dag_run: Any, msg: str) -> None:
    _write_note(dag_run, failed=False)


@hookimpl
def on_dag_run_failed(dag_run: Any, msg: str) -> None:
    _write_note(dag_run, failed=True)


def _write_note(dag_run: Any, *, failed: bool) -> None:
    try:
        from sqlalchemy.orm import object_session

        session = object_session(dag_run)
        if session is not None:  # the scheduler's own session: the note commits with the run's state
            _note_on(dag_run, session, failed=failed)
            return
        # A run object no session holds (dag.test's in-process runner): the run's state is
        # committed already, so a session of our own writes the note.
        from airflow.models.dagrun import DagRun
        from airflow.utils.session import create_session
        from sqlalchemy import select

        with create_session() as own:
            attached = own.scalars(select(DagRun).where(
                DagRun.dag_id == dag_run.dag_id, DagRun.run_id == dag_run.run_id)).one()
            _note_on(attached, own, failed=failed)
    except Exception:  # a note is a courtesy: it must never break the scheduler
        log.exception("Could not write the note of %s", dag_run.run_id)


def _note_on(dag_run: Any, session: Any, *, failed: bool) -> None:
    note = _note_left_by_a_task(dag_run, session) or (_failure_note(dag_run, session) if failed else None)
    if not note:
        return
    merged = merged_note(dag_run.note, note)
    if merged == dag_run.note:
        return
    if dag_run.dag_run_note is not None:  # keep who wrote the note (a person's text is below ours)
        dag_run.dag_run_note.content = merged
    else:
        dag_run.note = merged


def _note_left_by_a_task(dag_run: Any, session: Any) -> str | None:
    from airflow.models.xcom import XComModel
    from sqlalchemy import select

    row = session.scalars(select(XComModel).where(
        XComModel.dag_id == dag_run.dag_id, XComModel.run_id == dag_run.run_id, XComModel.key == RUN_NOTE_KEY,
    ).order_by(XComModel.timestamp.desc())).first()
    return XComModel.deserialize_value(row) if row is not None else None


def _failure_note(dag_run: Any, session: Any) -> str:
    """When no task left a note: a task marked failed by a person, or a failure callback that could not run."""
    from airflow.utils.state import TaskInstanceState

    from .timetables import data_day_of_run_id

    failed = [ti.task_id for ti in dag_run.get_task_instances(state=[TaskInstanceState.FAILED], session=session)]
    day = data_day_of_run_id(dag_run.run_id)
    where = f"**FAILED** at {', '.join(sorted(failed)) or 'an unknown task'}" + (f" · data {day}" if day else "")
    return f"{where}: the task was marked failed, or failed without a report of its own (its log has the details)"
