"""Whether S3 may send a bucket's events to an SQS queue: the queue exists and its policy lets S3 send.

AWS checks both before it saves a notification configuration (the reasons below are its words), and
SQS checks the policy again at every send. S3 sends as the service principal `s3.amazonaws.com`, with
the bucket as `aws:SourceArn` and its owner as `aws:SourceAccount`; a queue without a policy lets
only its own account's principals send, so it refuses S3, as on AWS. Evaluated here as SQS does: a
statement whose principal, action (`sqs:SendMessage`), resource and conditions match applies; an
applying Deny wins, else an applying Allow is needed. Conditions: the String and Arn operators
(`...IfExists`, `...Not...` included) on those two keys; any other operator or key makes a
statement not apply.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable
from typing import Any

from moto.sqs.models import Queue, sqs_backends

MISSING = "The destination queue does not exist"
DENIED = "Permissions on the destination queue do not allow S3 to publish notifications from this bucket"
S3_PRINCIPAL = "s3.amazonaws.com"
SEND_ACTION = "sqs:sendmessage"

_COMPARISONS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": lambda expected, value: expected == value,
    "StringEqualsIgnoreCase": lambda expected, value: expected.lower() == value.lower(),
    "StringLike": lambda expected, value: fnmatch.fnmatchcase(value, expected),
    "ArnEquals": lambda expected, value: expected == value,
    "ArnLike": lambda expected, value: fnmatch.fnmatchcase(value, expected),
}


def refusal(queue_arn: str, bucket_name: str, bucket_account: str) -> str | None:
    """Why S3 may not send the bucket's events to the queue (AWS's words), or None."""
    queue = find_queue(queue_arn)
    if queue is None:
        return MISSING
    return None if s3_may_send(queue.policy, queue_arn, bucket_name, bucket_account) else DENIED


def find_queue(queue_arn: str) -> Queue | None:
    parts = queue_arn.split(":")
    if len(parts) != 6:
        return None
    _, _, _, region, account, name = parts
    try:
        return sqs_backends[account][region].queues.get(name)
    except KeyError:  # a region moto does not know
        return None


def s3_may_send(policy: str | None, queue_arn: str, bucket_name: str, bucket_account: str) -> bool:
    if not policy:
        return False
    statements = json.loads(policy).get("Statement") or []
    context = {"aws:sourcearn": f"arn:aws:s3:::{bucket_name}", "aws:sourceaccount": bucket_account}
    applying = [statement.get("Effect") for statement in _listed(statements)
                if isinstance(statement, dict) and _applies(statement, queue_arn, context)]
    return "Allow" in applying and "Deny" not in applying


def _applies(statement: dict[str, Any], queue_arn: str, context: dict[str, str]) -> bool:
    if "Principal" in statement and not _names_s3(statement["Principal"]):
        return False
    if "NotPrincipal" in statement and _names_s3(statement["NotPrincipal"]):
        return False
    if "Action" in statement and not _matches(statement["Action"], SEND_ACTION, lower=True):
        return False
    if "NotAction" in statement and _matches(statement["NotAction"], SEND_ACTION, lower=True):
        return False
    if "Resource" in statement and not _matches(statement["Resource"], queue_arn):
        return False
    if "NotResource" in statement and _matches(statement["NotResource"], queue_arn):
        return False
    return _conditions_hold(statement.get("Condition") or {}, context)


def _names_s3(principal: Any) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    return S3_PRINCIPAL in _listed(principal.get("Service")) or "*" in _listed(principal.get("AWS"))


def _conditions_hold(conditions: dict[str, Any], context: dict[str, str]) -> bool:
    for operator, tests in conditions.items():
        name = operator.split(":")[-1]  # ForAnyValue:/ForAllValues: are alike for single-valued keys
        if_exists = name.endswith("IfExists")
        negated = "Not" in name
        compare = _COMPARISONS.get(name.removesuffix("IfExists").replace("Not", "", 1))
        if compare is None or not isinstance(tests, dict):
            return False
        for key, expected in tests.items():
            value = context.get(key.lower())
            if value is None:  # IAM: a missing key fails the condition unless it is negated or ...IfExists
                if not (if_exists or negated):
                    return False
                continue
            if any(compare(str(pattern), value) for pattern in _listed(expected)) == negated:
                return False
    return True


def _matches(patterns: Any, value: str, lower: bool = False) -> bool:
    return any(fnmatch.fnmatchcase(value, str(pattern).lower() if lower else str(pattern))
               for pattern in _listed(patterns))


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
