"""Tell people how a run ended: SNS first, then email and Slack where they are configured.

Which channels are on is configuration, read when a notification is sent (never at parse
time): the SNS topic ARN from an Airflow Variable, email when a recipients Variable is set,
Slack when the Slack provider is installed and its webhook connection exists.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .links import SageMakerPipelineExecutionLink

if TYPE_CHECKING:
    from airflow.sdk.bases.notifier import BaseNotifier

    from .run_report import RunReport

log = logging.getLogger(__name__)

SNS_TOPIC_VARIABLE = "sagemaker_pipelines_sns_topic_arn"
EMAIL_TO_VARIABLE = "sagemaker_pipelines_email_to"
REPORT_UNCHANGED_VARIABLE = "sagemaker_pipelines_report_unchanged"  # "false": a re-run that changed nothing sends nothing
SLACK_WEBHOOK_CONN_ID = "slack_webhook_default"
SMTP_CONN_ID = "smtp_default"


def console_url(link: Mapping[str, Any] | None) -> str | None:
    """The console URL of the link the start task persisted (its XCom), or None without one."""
    return SageMakerPipelineExecutionLink().format_link(**link) if link else None


def configured_notifiers(report: RunReport, aws_conn_id: str | None) -> list[BaseNotifier]:
    from airflow.sdk import Variable

    notifiers: list[BaseNotifier] = []
    topic_arn = Variable.get(SNS_TOPIC_VARIABLE, default=None)
    if topic_arn:
        from .hooks.provider_clients import SnsNotifier

        notifiers.append(SnsNotifier(aws_conn_id=aws_conn_id, target_arn=topic_arn,
                                     subject=report.subject, message=report.message))
    else:
        log.warning("Airflow Variable %s is not set: no SNS notification", SNS_TOPIC_VARIABLE)
    recipients = Variable.get(EMAIL_TO_VARIABLE, default=None)
    if recipients:
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier

        notifiers.append(SmtpNotifier(to=[r.strip() for r in recipients.split(",") if r.strip()],
                                      subject=report.subject, html_content=f"<pre>{_escape(report.message)}</pre>",
                                      smtp_conn_id=SMTP_CONN_ID))
    slack = _slack_notifier(report)
    if slack is not None:
        notifiers.append(slack)
    return notifiers


def _slack_notifier(report: RunReport) -> BaseNotifier | None:
    try:
        from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier
    except ImportError:
        return None
    from airflow.sdk import BaseHook

    try:
        BaseHook.get_connection(SLACK_WEBHOOK_CONN_ID)
    except Exception:  # AirflowNotFoundException: Slack is simply not configured
        return None
    return SlackWebhookNotifier(slack_webhook_conn_id=SLACK_WEBHOOK_CONN_ID, text=f"*{report.subject}*\n{report.message}")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def send_report(report: RunReport, context: Any, aws_conn_id: str | None) -> list[str]:
    """Send through every configured channel; returns the errors (one channel failing spares the others).

    `notify()` is called directly: the message is final text, and JSON braces must not go
    through Jinja.
    """
    errors = []
    for notifier in configured_notifiers(report, aws_conn_id):
        try:
            notifier.notify(context)
            log.info("Sent %s notification: %s", type(notifier).__name__, report.subject)
        except Exception as error:  # report every channel's failure, then let the caller decide
            errors.append(f"{type(notifier).__name__}: {error}")
            # The report must not be lost with the channel: it goes to the task log in full.
            log.error("%s notification failed: %s. The report it carried:\n%s\n%s", type(notifier).__name__, error,
                      report.subject, report.message)
    return errors


def report_unchanged_runs() -> bool:
    """Whether a run that changed nothing (a re-run of a decided day) is reported: yes unless the Variable says false."""
    from airflow.sdk import Variable

    return str(Variable.get(REPORT_UNCHANGED_VARIABLE, default="true")).strip().lower() not in ("false", "0", "no")


def notifications_enabled(context: Any) -> bool:
    value = (context.get("params") or {}).get("notify", True)
    return value not in (False, "false", "False", 0)


def failure_report(context: Any, start_task_id: str, partition_task_id: str) -> RunReport:
    from .operators.data_partition import run_data_day
    from .run_report import RunReport

    ti = context["ti"]
    # A callback gets no XComArgs: it reads what the start and partition tasks stored, by their task ids.
    arn = ti.xcom_pull(task_ids=start_task_id)
    try:
        url = console_url(ti.xcom_pull(task_ids=start_task_id, key=SageMakerPipelineExecutionLink.key))
    except Exception:  # a failure report must go out even if the link cannot be rebuilt
        url = None
    try:
        day = ti.xcom_pull(task_ids=partition_task_id, key="data_day") or run_data_day(
            context.get("data_interval_start"), context["dag_run"].run_after).isoformat()
    except Exception:  # nor for want of the day
        day = None
    return RunReport(
        dag_id=ti.dag_id,
        run_id=ti.run_id,
        outcome="failed",
        execution_arn=arn if isinstance(arn, str) else None,
        console_url=url,
        data_day=day,
        failed_task=ti.task_id,
        error=str(context.get("exception") or "unknown error")[:2000],
    )


class FailureNotification:
    """An on_failure_callback: a task failed for good (its retries spent); say so on the run's note and on
    every channel, with the reason and the data day."""

    def __init__(self, aws_conn_id: str | None = "aws_default", start_task_id: str = "start_execution",
                 partition_task_id: str = "choose_partition") -> None:
        self.aws_conn_id = aws_conn_id
        self.start_task_id = start_task_id
        self.partition_task_id = partition_task_id

    def __repr__(self) -> str:
        return (f"FailureNotification(aws_conn_id={self.aws_conn_id!r}, start_task_id={self.start_task_id!r}, "
                f"partition_task_id={self.partition_task_id!r})")

    def __call__(self, context: Any) -> None:
        from .run_notes import RUN_NOTE_KEY

        report = failure_report(context, self.start_task_id, self.partition_task_id)
        try:  # the run's note, written by the listener when the run ends
            context["ti"].xcom_push(key=RUN_NOTE_KEY, value=report.note)
        except Exception as error:  # the report still goes out
            log.warning("Could not leave the failure's note: %s", error)
        if not notifications_enabled(context):
            log.info("Notifications are off for this run (params.notify)")
            return
        for error in send_report(report, context, self.aws_conn_id):
            log.error("Failure notification not sent: %s", error)


def report_marked_failed(dag_id: str, run_id: str, task_id: str, execution_arn: str, aws_conn_id: str | None) -> None:
    """A person marked the waiting task failed: no failure callback runs for that, so say it here.

    Called by the trigger once it has stopped the execution.
    """
    from .links import execution_arn_parts
    from .run_report import RunReport
    from .timetables import data_day_of_run_id

    try:
        from airflow.providers.amazon.aws.hooks.base_aws import AwsGenericHook

        hook = AwsGenericHook(aws_conn_id=aws_conn_id, client_type="sagemaker")
        url = SageMakerPipelineExecutionLink().format_link(
            region_name=hook.conn_region_name, aws_domain=SageMakerPipelineExecutionLink.get_aws_domain(
                hook.conn_partition), **execution_arn_parts(execution_arn))
    except Exception:  # the report must go out even if the link cannot be built
        url = None
    report = RunReport(dag_id=dag_id, run_id=run_id, outcome="failed", execution_arn=execution_arn, console_url=url,
                       data_day=data_day_of_run_id(run_id), failed_task=task_id,
                       error="Marked failed by a person while the execution ran; the execution was asked to stop")
    for error in send_report(report, {}, aws_conn_id):
        log.error("Failure notification not sent: %s", error)
