"""`make run`'s last part: the scoring DAG for the trained day, with the model just approved, and what it wrote.

The model live for a day learned from an earlier day; on a fresh endpoint the only model is the
day's own, so the day is scored with the form's `model = champion` (the newest Approved). The
summary: where the scores went, the rows, the share flagged positive, two scored rows.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from devtools.local_airflow.environment import BUCKET


def score_the_day(env: dict[str, str], options: argparse.Namespace, airflow_home: Path, clients: dict[str, Any],
                  queue_url: str) -> tuple[bool, str]:
    """Run the scoring DAG for options.day, print what it wrote; (scored, why not)."""
    from devtools.local_airflow.run_training_dag import dags_test, received_report

    declaration = options.declaration
    returncode, _ = dags_test(env, options, declaration.scoring.dag_id, options.day.isoformat(),
                              {"model": "champion"}, airflow_home / "scoring-test.log")
    received = received_report(clients["sqs"], queue_url)
    report = received[1] if received else {}
    if returncode != 0 or report.get("outcome") != "scored":
        return False, report.get("error") or f"the scoring DAG failed (airflow dags test exited {returncode})"
    prefix = declaration.scoring.scores_prefix(options.day)
    objects = clients["s3"].list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    scores = next(o["Key"] for o in objects if not o["Key"].endswith(".json"))
    answer = clients["s3"].get_object(Bucket=BUCKET, Key=scores)
    lines = answer["Body"].read().decode().splitlines()
    metrics = report.get("metrics") or {}
    share = metrics.get("positive_share")
    print(f"\nScores     s3://{BUCKET}/{scores}: {metrics.get('rows')} rows by model package version "
          f"{answer['Metadata'].get('model-package-version')}"
          + (f", {share:.1%} flagged positive" if isinstance(share, float) else ""))
    print(f"           {lines[0]}   {lines[1]}   ... (<row>,<score>)")
    return True, ""
