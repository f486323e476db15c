"""The run's outcome on the run itself: a DAG run note written when the run ends.

A run that rejected its model is as green as one that approved it; the note says which, with
the data day, the AUC and the package, in the grid and the run's details. Tasks cannot write
run notes through the task API, so this is a listener (registered by the plugin): it runs in
the scheduler when a run ends and writes the note a task left in XCom under RUN_NOTE_KEY, or,
for a failed run, which tasks failed. A note a person already wrote is left alone.
"""

from __future__ import annotations

import logging
from typing import Any

from airflow.listeners import hookimpl

log = logging.getLogger(__name__)

RUN_NOTE_KEY = "run_note"
NOTE_MAX = 1000  # the API's limit on a run note


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
    if dag_run.note:
        return
    note = _note_left_by_a_task(dag_run, session) or (_failure_note(dag_run, session) if failed else None)
    if note:
        dag_run.note = note[:NOTE_MAX]


def _note_left_by_a_task(dag_run: Any, session: Any) -> str | None:
    from airflow.models.xcom import XComModel
    from sqlalchemy import select

    row = session.scalars(select(XComModel).where(
        XComModel.dag_id == dag_run.dag_id, XComModel.run_id == dag_run.run_id, XComModel.key == RUN_NOTE_KEY,
    ).order_by(XComModel.timestamp.desc())).first()
    return XComModel.deserialize_value(row) if row is not None else None


def _failure_note(dag_run: Any, session: Any) -> str:
    from airflow.utils.state import TaskInstanceState

    failed = [ti.task_id for ti in dag_run.get_task_instances(state=[TaskInstanceState.FAILED], session=session)]
    return f"**FAILED** at {', '.join(sorted(failed)) or 'an unknown task'}: see the task log"
