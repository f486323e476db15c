"""What a notification says about one DAG run, as text for people and JSON for programs.

The message is the text, then one line of JSON with the same facts: `RunReport.from_message`
reads that last line back, whatever blank lines the text (an error, say) contains.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

SNS_SUBJECT_MAX = 100
NOTE_REASON_MAX = 600  # of a failure's reason, on the note's first line (a note holds 1,000 characters)
DRIFT_FACT = "DATA DRIFT: "  # on a note's first line, before the drifted features (run_notes.noted_drift)
# What each outcome is called where a person reads it first: the note's first line, the subject.
OUTCOME_TITLES = {
    "approved": "APPROVED",
    "rejected": "REJECTED",
    "gate_failed": "GATE FAILED",  # the pipeline's own quality gate said no: nothing was registered
    "not_promoted": "NOT PROMOTED",
    "unchanged": "UNCHANGED",  # a re-run of a day decided before: the approved model stays as it was
    "failed": "FAILED",
    # A deploy run's.
    "deployed": "DEPLOYED",
    "rolled_back": "ROLLED BACK",  # the new model failed its checks: the endpoint serves the previous one again
    # A scoring run's.
    "scored": "SCORED",
    # A monitoring run's: the endpoint's requests checked against the served model's data-quality baseline.
    "data_ok": "DATA OK",
    "data_drift": "DATA DRIFT",
    "not_checked": "NOT CHECKED",  # nothing to check (capture off, no endpoint, no requests): said why
    # A training run past its deadline, still going (an alert, not an outcome: no note is written).
    "late": "LATE",
    # A training run whose candidate waits for a person's approval in the Airflow UI (an alert too).
    "awaiting_approval": "AWAITING APPROVAL",
}


@dataclass
class RunReport:
    """Everything a notification says about one DAG run."""

    dag_id: str
    run_id: str
    outcome: str  # one of OUTCOME_TITLES
    execution_arn: str | None = None
    console_url: str | None = None
    data_day: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    metric: str = "auc"  # the metric the decision rests on, named first
    decision_reason: str | None = None
    model_package_arn: str | None = None
    model_package_status: str | None = None
    failed_task: str | None = None
    error: str | None = None
    # Data-quality violations, one line each (data_quality.violation_line): the feature, the kind, its values.
    data_quality: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return OUTCOME_TITLES.get(self.outcome, self.outcome.replace("_", " ").upper())

    @property
    def subject(self) -> str:
        value = f" {self.metric.upper()} {self.metrics[self.metric]:.4f}" if self.metric in self.metrics else ""
        day = f" data {self.data_day}" if self.data_day else ""
        text = f"[{self.title}] {self.dag_id}{value}{day} {self.run_id}"
        text = text.encode("ascii", "replace").decode().replace("\n", " ")
        return text[:SNS_SUBJECT_MAX]

    @property
    def note(self) -> str:
        """The DAG run's note: the outcome on the first line, in the words a person scanning the runs needs;
        a failure says where and why there, the decision's reason follows."""
        facts = [f"**{self.title}**" + (f" at {self.failed_task}" if self.failed_task else "")]
        if self.data_day:
            facts.append(f"data {self.data_day}")
        if self.metric in self.metrics:
            facts.append(f"{self.metric.upper()} {self.metrics[self.metric]:.4f}")
        if self.model_package_arn:
            package = "/".join(self.model_package_arn.rsplit("/", 2)[-2:])
            facts.append(f"package {package} ({self.model_package_status})")
        if self.data_quality:
            facts.append(f"{DRIFT_FACT}{', '.join(line.split(':', 1)[0] for line in self.data_quality)}")
        first = " · ".join(facts)
        if self.error:
            first += ": " + " ".join(self.error.split())[:NOTE_REASON_MAX]
        drift = "".join(f"\n- {line}" for line in self.data_quality)
        return first + (f"\n\n{self.decision_reason}" if self.decision_reason else "") + (
            f"\n\nData quality:{drift}" if drift else "")

    @property
    def message(self) -> str:
        lines = [f"DAG run: {self.dag_id} / {self.run_id}", f"Outcome: {self.outcome}"]
        if self.data_day:
            lines.append(f"Data day: {self.data_day}")
        if self.failed_task:
            lines.append(f"Failed task: {self.failed_task}")
        if self.error:
            lines.append(f"Error: {self.error}")
        if self.execution_arn:
            lines.append(f"Pipeline execution: {self.execution_arn}")
        if self.console_url:
            lines.append(f"Console: {self.console_url}")
        if self.metrics:
            lines.append("Metrics: " + ", ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}"
                                                 for k, v in self.metrics.items()))
        if self.decision_reason:
            lines.append(f"Decision: {self.decision_reason}")
        if self.model_package_arn:
            lines.append(f"Model package: {self.model_package_arn} ({self.model_package_status})")
        if self.data_quality:
            lines.append("Data quality violations:")
            lines.extend(f"  {line}" for line in self.data_quality)
        # The same facts as one line of JSON, for subscribers that parse (SQS, Lambda).
        return "\n".join(lines) + "\n\n" + json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_message(cls, message: str) -> RunReport:
        """The report a `message` carries (its last line); a message that carries none is a ValueError."""
        last_line = message.rstrip("\n").rsplit("\n", 1)[-1]
        try:
            facts = json.loads(last_line)
        except json.JSONDecodeError:
            raise ValueError(f"not a run report message: its last line is not JSON: {last_line[:80]!r}") from None
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in facts.items() if key in known})
