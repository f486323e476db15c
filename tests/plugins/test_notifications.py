"""The run report, and the channels that configuration turns on: SNS and email, for real, on loopback."""

from __future__ import annotations

import json
import socketserver
import threading
from collections.abc import Iterator

import pytest
from airflow_sagemaker_pipelines.notifications import send_report
from airflow_sagemaker_pipelines.run_report import RunReport

EXECUTION = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/abc123"


def report(**overrides: object) -> RunReport:
    values = {"dag_id": "sagemaker_training_pipeline", "run_id": "scheduled__2024-03-01T00:00:00+00:00",
              "outcome": "approved", "execution_arn": EXECUTION, "metrics": {"auc": 0.7437, "test_rows": 300},
              "decision_reason": "AUC 0.7437 meets the threshold 0.7000", **overrides}
    return RunReport(**values)  # type: ignore[arg-type]


def test_subject_fits_sns_and_message_carries_text_and_json() -> None:
    long_run = report(run_id="manual__" + "x" * 200 + "\nünïcødé")
    assert len(long_run.subject) <= 100 and "\n" not in long_run.subject and long_run.subject.isascii()
    assert report().subject == "[APPROVED] sagemaker_training_pipeline AUC 0.7437 scheduled__2024-03-01T00:00:00+00:00"
    text = report().message
    assert "Metrics: auc=0.7437, test_rows=300" in text and f"Pipeline execution: {EXECUTION}" in text
    assert RunReport.from_message(text) == report()


def test_report_reads_back_from_a_message_whose_error_holds_blank_lines() -> None:
    failed = report(outcome="failed", error="Traceback:\n\n  File x\n\nValueError: {not json}")
    assert RunReport.from_message(failed.message) == failed
    with pytest.raises(ValueError, match="not a run report message"):
        RunReport.from_message("just text\n\nmore text")


class _SmtpSession(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: greet, accept one message, keep what it said."""

    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        self.reply("220 localhost test SMTP")
        while line := self.rfile.readline().decode():
            command = line.strip().upper()
            if command.startswith(("EHLO", "HELO")):
                self.reply("250 localhost")
            elif command == "DATA":
                self.reply("354 end with .")
                body = []
                while (data := self.rfile.readline().decode()) not in (".\r\n", ""):
                    body.append(data)
                self.server.messages.append("".join(body))  # type: ignore[attr-defined]
                self.reply("250 queued")
            elif command == "QUIT":
                self.reply("221 bye")
                return
            else:  # MAIL FROM, RCPT TO, RSET, NOOP
                self.reply("250 ok")


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, list[str]]]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpSession)
    server.messages = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], server.messages  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


def test_sns_and_email_both_receive_the_report_when_configured(
    aws_default_connection, endpoint_client, smtp_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    port, mails = smtp_server
    sns, sqs = endpoint_client("sns"), endpoint_client("sqs")
    topic = sns.create_topic(Name="notification-channels")["TopicArn"]
    queue = sqs.create_queue(QueueName="notification-channels")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    monkeypatch.setenv("AIRFLOW_VAR_SAGEMAKER_PIPELINES_SNS_TOPIC_ARN", topic)
    monkeypatch.setenv("AIRFLOW_VAR_SAGEMAKER_PIPELINES_EMAIL_TO", "ml-team@example.com, oncall@example.com")
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps({
        "conn_type": "smtp", "host": "127.0.0.1", "port": port,
        "extra": {"from_email": "airflow@example.com", "disable_ssl": True, "disable_tls": True}}))

    errors = send_report(report(), {}, "aws_default")

    assert errors == []
    [message] = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1)["Messages"]
    assert json.loads(message["Body"])["Subject"] == report().subject
    [mail] = mails
    assert "ml-team@example.com" in mail and "oncall@example.com" in mail
    assert "Subject: [APPROVED] sagemaker_training_pipeline" in mail


def test_a_failing_channel_is_reported_with_the_whole_report_and_spares_the_others(
    aws_default_connection, smtp_server, monkeypatch, caplog
) -> None:
    port, mails = smtp_server
    monkeypatch.setenv("AIRFLOW_VAR_SAGEMAKER_PIPELINES_SNS_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:missing")
    monkeypatch.setenv("AIRFLOW_VAR_SAGEMAKER_PIPELINES_EMAIL_TO", "ml-team@example.com")
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps({
        "conn_type": "smtp", "host": "127.0.0.1", "port": port,
        "extra": {"from_email": "airflow@example.com", "disable_ssl": True, "disable_tls": True}}))
    errors = send_report(report(), {}, "aws_default")
    assert len(errors) == 1 and errors[0].startswith("SnsNotifier: ") and "NotFound" in errors[0]
    assert len(mails) == 1
    [logged] = [r.getMessage() for r in caplog.records if "SnsNotifier notification failed" in r.getMessage()]
    assert report().message in logged  # nothing is lost with the channel
