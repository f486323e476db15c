"""A processing job's ExitMessage: what its container left in /opt/ml/output/message.

"Save and Access Metadata Information About Your Processing Job": a container may write UTF-8 text
to /opt/ml/output/message; DescribeProcessingJob's ExitMessage holds its first 1 KB once the job
has ended. The Model Monitor analyzer says there whether it found violations.
"""

from __future__ import annotations

from typing import Any

from ..sandbox import Sandbox

MESSAGE_PATH = "/opt/ml/output/message"
MESSAGE_LIMIT_BYTES = 1024


def exit_message_fields(sandbox: Sandbox) -> dict[str, Any]:
    """`{"ExitMessage": ...}` when the container wrote a message, else nothing."""
    path = sandbox.host_path(MESSAGE_PATH)
    if not path.is_file():
        return {}
    message = path.read_bytes()[:MESSAGE_LIMIT_BYTES].decode("utf-8", errors="ignore")
    return {"ExitMessage": message} if message else {}
