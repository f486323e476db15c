"""CloudWatch Logs of SageMaker jobs: the last lines of each of a job's streams."""

from __future__ import annotations

from airflow.providers.amazon.aws.hooks.logs import AwsLogsHook

from .transient_errors import StandardRetries


class JobLogsHook(StandardRetries, AwsLogsHook):
    """The provider's logs hook plus the tail of a job's streams (`<job name>/algo-1-<epoch>`, ...)."""

    def job_log_tails(self, log_group: str, job_name: str, lines: int) -> dict[str, list[str]]:
        """Stream name -> its last `lines` messages, for every stream of the job; {} when it has none."""
        streams = self.conn.describe_log_streams(logGroupName=log_group, logStreamNamePrefix=f"{job_name}/")
        tails: dict[str, list[str]] = {}
        for stream in streams.get("logStreams", []):
            name = stream["logStreamName"]
            events = self.conn.get_log_events(
                logGroupName=log_group, logStreamName=name, limit=lines, startFromHead=False
            )["events"]
            tails[name] = [event["message"].rstrip() for event in events]
        return tails
