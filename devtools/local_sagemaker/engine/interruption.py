"""What a restart makes of the work that was running when the endpoint died.

AWS never silently forgets an execution or a job: whatever was Executing, InProgress,
Starting or Stopping when the endpoint ended (SIGTERM, SIGKILL, a crash) is Failed, with this
reason, when its saved state is restored; a RetryPipelineExecution then runs the failed steps
again, as it would after any failure.
"""

RESTART_REASON = (
    "endpoint restarted: the local SageMaker endpoint stopped while this ran, and its processes with it; "
    "RetryPipelineExecution runs an execution's failed steps again"
)
