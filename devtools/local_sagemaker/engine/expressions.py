"""Evaluate the definition's expressions: Get, Std:Join, Std:JsonGet.

A `Get` names a pipeline parameter (`Parameters.X`), an execution variable
(`Execution.PipelineExecutionId`, ...), a step property as AWS documents it
(`Steps.S.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri`) or a property file
(`Steps.S.PropertyFiles.F`, only inside Std:JsonGet).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import StepFailure

# `Outputs['train']` selects the list element whose name field is 'train'.
_NAME_FIELDS = ("OutputName", "InputName", "ChannelName", "MetricName", "Name", "Key")
_TOKEN = re.compile(r"\.?([A-Za-z0-9_\-:]+)|\[\s*'([^']*)'\s*\]|\[\s*\"([^\"]*)\"\s*\]|\[(\d+)\]")


@dataclass
class ResolutionContext:
    parameters: Mapping[str, Any]
    execution_variables: Mapping[str, Any]
    step_properties: Callable[[str], Mapping[str, Any] | None]
    # (step name, property file name) -> parsed JSON document
    property_file: Callable[[str, str], Any]
    # s3 uri -> parsed JSON document (Std:JsonGet with an S3Uri)
    json_from_s3: Callable[[str], Any]


def resolve(value: Any, context: ResolutionContext) -> Any:
    """Return `value` with every expression replaced by its value."""
    if isinstance(value, dict):
        if len(value) == 1:
            (key, body), = value.items()
            if key == "Get" and isinstance(body, str):
                return _get(body, context)
            if key == "Std:Join":
                separator = resolve(body.get("On", ""), context)
                parts = [_as_text(resolve(part, context)) for part in body.get("Values", [])]
                return str(separator).join(parts)
            if key == "Std:JsonGet":
                return _json_get(body, context)
        return {key: resolve(item, context) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, context) for item in value]
    return value


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _get(path: str, context: ResolutionContext) -> Any:
    head, _, rest = path.partition(".")
    if head == "Parameters":
        if rest not in context.parameters:
            raise StepFailure(f"Parameter '{rest}' is not defined in the pipeline")
        return context.parameters[rest]
    if head == "Execution":
        if rest not in context.execution_variables:
            raise StepFailure(f"Unknown execution variable 'Execution.{rest}'")
        return context.execution_variables[rest]
    if head == "Steps":
        step_name, _, property_path = rest.partition(".")
        properties = context.step_properties(step_name)
        if properties is None:
            raise StepFailure(f"Step '{step_name}' has no properties: it has not run")
        return select(properties, property_path, f"Steps.{step_name}")
    raise StepFailure(f"Unsupported Get expression '{path}'")


def select(document: Any, path: str, where: str = "") -> Any:
    """Follow a property path (`A.B['name'].C[0]`) into a document."""
    current = document
    position = 0
    walked = where
    while position < len(path):
        match = _TOKEN.match(path, position)
        if not match or match.end() == position:
            raise StepFailure(f"Cannot parse property path '{path}' at position {position}")
        position = match.end()
        attribute, quoted, double_quoted, index = match.groups()
        if attribute is not None:
            walked += f".{attribute}"
            if not isinstance(current, Mapping) or attribute not in current:
                raise StepFailure(f"Property '{walked}' does not exist")
            current = current[attribute]
        elif index is not None:
            walked += f"[{index}]"
            if not isinstance(current, list) or int(index) >= len(current):
                raise StepFailure(f"Property '{walked}' does not exist")
            current = current[int(index)]
        else:
            key = quoted if quoted is not None else double_quoted
            walked += f"['{key}']"
            current = _by_name(current, key, walked)
    return current


def _by_name(current: Any, key: str, walked: str) -> Any:
    if isinstance(current, Mapping):
        if key in current:
            return current[key]
    elif isinstance(current, list):
        for item in current:
            if isinstance(item, Mapping) and any(item.get(f) == key for f in _NAME_FIELDS):
                return item
    raise StepFailure(f"Property '{walked}' does not exist")


def _json_get(body: Mapping[str, Any], context: ResolutionContext) -> Any:
    json_path = resolve(body.get("Path"), context)
    if "PropertyFile" in body:
        reference = body["PropertyFile"]
        reference = reference.get("Get") if isinstance(reference, Mapping) else reference
        match = re.fullmatch(r"Steps\.([^.]+)\.PropertyFiles\.(.+)", str(reference))
        if not match:
            raise StepFailure(f"Std:JsonGet PropertyFile '{reference}' is not a property file")
        document = context.property_file(match.group(1), match.group(2))
        source = f"property file {match.group(2)} of step {match.group(1)}"
    elif "S3Uri" in body:
        uri = resolve(body["S3Uri"], context)
        document = context.json_from_s3(uri)
        source = uri
    else:
        raise StepFailure("Std:JsonGet needs a PropertyFile or an S3Uri")
    try:
        return json_path_get(document, str(json_path))
    except StepFailure as error:
        raise StepFailure(f"Std:JsonGet on {source}: {error}") from None


def json_path_get(document: Any, path: str) -> Any:
    """The JsonPath subset SageMaker's JsonGet supports: `a.b[0].c`, `a['b c']`."""
    try:
        return select(document, path)
    except StepFailure:
        raise StepFailure(f"path '{path}' not found in {json.dumps(document)[:300]}") from None
