"""IAM's policy simulator (SimulatePrincipalPolicy, SimulateCustomPolicy), which moto lacks.

SageMaker SDK v3 validates an execution role with iam:SimulatePrincipalPolicy unless
SAGEMAKER_VALIDATE_ROLE=false, and ModelTrainer checks with it that the role may write to the
default bucket; against moto that call was an HTML 500, which botocore retries. Here the
simulator evaluates the principal's identity policies (inline and attached, a user's groups'
too, and PolicyInputList) the way IAM does: an explicit Deny wins, else an Allow, else
implicitDeny; a permissions boundary must allow the action too. A statement with a Condition
applies only when ContextEntries give every key it tests (else the key is reported in
MissingContextValues), as the simulator reports it.
"""

from __future__ import annotations

import fnmatch
import importlib
import json
from typing import Any
from urllib.parse import unquote

from moto.core.responses import ActionResult
from moto.iam import models as moto_iam
from moto.iam.access_control import IAMPolicyStatement
from moto.iam.exceptions import NotFoundException
from moto.iam.models import IAMBackend
from moto.iam.responses import IamResponse

MAX_ITEMS = 1000


class LocalIamBackend(IAMBackend):
    @property
    def _url_module(self) -> Any:
        return importlib.import_module(f"{__package__}.iam_urls")

    def principal_policies(self, source_arn: str) -> tuple[list[tuple[str, dict[str, Any]]], dict[str, Any] | None]:
        """(policy id, document) of each identity policy of the principal, and its permissions boundary."""
        resource = source_arn.split(":", 5)[-1]
        kind, _, path_name = resource.partition("/")
        name = path_name.rsplit("/", 1)[-1]
        documents: list[tuple[str, dict[str, Any]]] = []
        boundary_arn = None
        if kind == "role":
            principal: Any = self.get_role(name)
            boundary_arn = principal.permissions_boundary_arn
            holders = [principal]
        elif kind == "user":
            principal = self.get_user(name)
            holders = [principal, *self.get_groups_for_user(name)]
        elif kind == "group":
            holders = [self.get_group(name)]
        else:
            raise NotFoundException(f"PolicySourceArn {source_arn} is not the ARN of a user, group or role")
        for holder in holders:
            for policy_name, document in holder.policies.items():
                documents.append((policy_name, _document(document)))
            for policy in holder.managed_policies.values():
                documents.append((policy.name, _document(_default_version(policy))))
        boundary = _document(_default_version(self.get_policy(boundary_arn))) if boundary_arn else None
        return documents, boundary


class LocalIamResponse(IamResponse):
    @property
    def backend(self) -> LocalIamBackend:  # type: ignore[override]
        return super().backend  # type: ignore[return-value]

    def simulate_principal_policy(self) -> ActionResult:
        source = self._get_param("PolicySourceArn")
        documents, boundary = self.backend.principal_policies(source)
        extra = [(f"PolicyInputList.{index}", _document(text))
                 for index, text in enumerate(self._get_param("PolicyInputList") or [], start=1)]
        return ActionResult(self._simulate([*documents, *extra], boundary))

    def simulate_custom_policy(self) -> ActionResult:
        documents = [(f"PolicyInputList.{index}", _document(text))
                     for index, text in enumerate(self._get_param("PolicyInputList") or [], start=1)]
        boundaries = self._get_param("PermissionsBoundaryPolicyInputList") or []
        return ActionResult(self._simulate(documents, _document(boundaries[0]) if boundaries else None))

    def _simulate(self, documents: list[tuple[str, dict[str, Any]]], boundary: dict[str, Any] | None) -> dict[str, Any]:
        context = {entry["ContextKeyName"]: entry.get("ContextKeyValues", [])
                   for entry in self._get_param("ContextEntries") or []}
        resources = self._get_param("ResourceArns") or ["*"]
        results = [
            _evaluate(action, resource, documents, boundary, context)
            for action in self._get_param("ActionNames") or []
            for resource in resources
        ]
        return {"EvaluationResults": results[:MAX_ITEMS], "IsTruncated": False}


def _default_version(policy: Any) -> str:
    return next(version.document for version in policy.versions if version.is_default)


def _document(text: Any) -> dict[str, Any]:
    if isinstance(text, dict):
        return text
    text = str(text)
    return json.loads(unquote(text) if text.startswith("%7B") else text)


def _evaluate(action: str, resource: str, documents: list[tuple[str, dict[str, Any]]],
              boundary: dict[str, Any] | None, context: dict[str, list[str]]) -> dict[str, Any]:
    missing: set[str] = set()
    denied, allowed = _matches(action, resource, documents, context, missing)
    result: dict[str, Any] = {"EvalActionName": action, "EvalResourceName": resource}
    if denied:
        decision, matched = "explicitDeny", denied
    elif allowed:
        decision, matched = "allowed", allowed
    else:
        decision, matched = "implicitDeny", []
    if boundary is not None and decision == "allowed":
        boundary_denied, boundary_allowed = _matches(action, resource, [("PermissionsBoundary", boundary)], context, missing)
        within = bool(boundary_allowed) and not boundary_denied
        result["PermissionsBoundaryDecisionDetail"] = {"AllowedByPermissionsBoundary": within}
        if not within:
            decision, matched = "implicitDeny", []
    result.update(EvalDecision=decision, MatchedStatements=[{"SourcePolicyId": source, "SourcePolicyType": "IAM Policy"}
                                                          for source in matched],
                  MissingContextValues=sorted(missing))
    return result


def _matches(action: str, resource: str, documents: list[tuple[str, dict[str, Any]]],
             context: dict[str, list[str]], missing: set[str]) -> tuple[list[str], list[str]]:
    """(ids of policies whose statements deny, ids of those that allow) the action on the resource."""
    denied: list[str] = []
    allowed: list[str] = []
    for source, document in documents:
        statements = document.get("Statement", [])
        for statement in statements if isinstance(statements, list) else [statements]:
            if not _applies(statement, action, resource, context, missing):
                continue
            (denied if statement.get("Effect") == "Deny" else allowed).append(source)
    return denied, allowed


def _applies(statement: dict[str, Any], action: str, resource: str, context: dict[str, list[str]], missing: set[str]) -> bool:
    if "Action" in statement and not _any_match(statement["Action"], action, case_sensitive=False):
        return False
    if "NotAction" in statement and _any_match(statement["NotAction"], action, case_sensitive=False):
        return False
    if "Resource" in statement and not _any_match(statement["Resource"], resource, case_sensitive=True):
        return False
    if "NotResource" in statement and _any_match(statement["NotResource"], resource, case_sensitive=True):
        return False
    conditions = statement.get("Condition") or {}
    keys = [key for operator in conditions.values() for key in operator]
    given = {key.lower(): key for key in context}
    absent = [key for key in keys if key.lower() not in given]
    if absent:
        missing.update(absent)
        return False
    if not conditions:
        return True
    values = {key: context[given[key.lower()]][0] for key in keys if context[given[key.lower()]]}
    return IAMPolicyStatement(statement)._check_conditions(values)


def _any_match(patterns: Any, value: str, case_sensitive: bool) -> bool:
    for pattern in patterns if isinstance(patterns, list) else [patterns]:
        if pattern == "*" or (fnmatch.fnmatchcase(value, pattern) if case_sensitive
                              else fnmatch.fnmatchcase(value.lower(), pattern.lower())):
            return True
    return False


def install_iam() -> None:
    """Make moto build IAM backends from LocalIamBackend (the simulator's responses)."""
    backends = moto_iam.iam_backends
    if backends.backend is not LocalIamBackend:
        backends.backend = LocalIamBackend
        backends.clear()
