"""A pipeline definition compiled ahead (`make pipelines`), filled in for one deployment, with no SDK.

The compiled file holds the definition with `${name}` placeholders for the deployment's values
(bucket, prefix, role, registry group, region), each image's URI in every region, and the scripts
the steps run with their digests. `render` fills the placeholders and the parameter defaults in;
`scripts` says which files go to which S3 keys. A file that does not match this format, a value
or region it lacks, or a script edited since the compile is a CompiledPipelineError naming it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORMAT = 1
_PLACEHOLDER = re.compile(r"\$\{([a-z_]+)\}")
# How each parameter type's default is written in a definition.
_PARAMETER_TYPES: dict[str, type] = {"String": str, "Float": float, "Integer": int, "Boolean": bool}


class CompiledPipelineError(ValueError):
    """The compiled definition cannot be used as it is; the message names the file and what to do."""


@dataclass(frozen=True)
class Script:
    local_path: Path
    s3_key: str  # under the deployment's bucket


@dataclass(frozen=True)
class CompiledPipeline:
    path: Path
    definition: dict[str, Any]
    placeholders: tuple[str, ...]
    regional_values: dict[str, dict[str, str]]  # placeholder -> region -> value
    scripts_folder: Path
    scripts_s3_folder: str
    script_digests: dict[str, str]  # file name -> sha256

    @classmethod
    def load(cls, path: str | Path) -> CompiledPipeline:
        path = Path(path)
        try:
            compiled = json.loads(path.read_text())
        except FileNotFoundError:
            raise CompiledPipelineError(f"{path} does not exist: run `make pipelines` to compile it") from None
        except (OSError, ValueError) as error:
            raise CompiledPipelineError(f"{path} cannot be read as JSON ({error}): run `make pipelines`") from None
        if not isinstance(compiled, dict) or compiled.get("format") != FORMAT:
            raise CompiledPipelineError(f"{path} is not a compiled definition of format {FORMAT}: run `make pipelines`")
        try:
            scripts = compiled["scripts"]
            return cls(
                path=path,
                definition=compiled["definition"],
                placeholders=tuple(compiled["placeholders"]),
                regional_values=compiled["regional_values"],
                scripts_folder=(path.parent / scripts["folder"]).resolve(),  # relative to the compiled file
                scripts_s3_folder=scripts["s3_folder"],
                script_digests=dict(scripts["files"]),
            )
        except (KeyError, TypeError) as error:
            raise CompiledPipelineError(f"{path} lacks {error}: run `make pipelines`") from None

    def render(self, values: Mapping[str, str], parameter_defaults: Mapping[str, Any]) -> str:
        """The definition for one deployment: every placeholder filled, the given parameter defaults set."""
        missing = sorted(set(self.placeholders) - set(values))
        if missing:
            raise CompiledPipelineError(f"{self.path} needs values for {', '.join(missing)}")
        filled = dict(values)
        region = values["region"]
        for name, by_region in self.regional_values.items():
            if region not in by_region:
                raise CompiledPipelineError(f"{self.path} has no {name} for region {region!r}; it has one for: "
                                            f"{', '.join(sorted(by_region))}")
            filled[name] = by_region[region]
        definition = _filled(self.definition, filled, self.path)
        declared = {parameter["Name"]: parameter for parameter in definition.get("Parameters", [])}
        for name, value in parameter_defaults.items():
            parameter = declared.get(name)
            if parameter is None:
                raise CompiledPipelineError(f"{self.path} declares no parameter {name!r}; it declares: "
                                            f"{', '.join(sorted(declared))}")
            parameter["DefaultValue"] = _typed(value, parameter, self.path)
        return json.dumps(definition, separators=(",", ":"))

    def scripts(self, prefix: str) -> list[Script]:
        """Where each script goes (`<prefix>/<the compile's code folder>/<name>`), checked against its digest."""
        edited = []
        for name, digest in self.script_digests.items():
            local = self.scripts_folder / name
            try:
                actual = hashlib.sha256(local.read_bytes()).hexdigest()
            except FileNotFoundError:
                raise CompiledPipelineError(f"{local} does not exist: {self.path} runs it") from None
            if actual != digest:
                edited.append(name)
        if edited:
            raise CompiledPipelineError(f"{', '.join(edited)} changed after {self.path} was compiled: run "
                                        "`make pipelines`, so that the definition runs the scripts shipped beside it")
        folder = "/".join(part.strip("/") for part in (prefix, self.scripts_s3_folder) if part.strip("/"))
        return [Script(self.scripts_folder / name, f"{folder}/{name}") for name in sorted(self.script_digests)]


def definition_version(definition: str) -> str:
    """A digest of the definition: equal exactly when the pipeline (scripts included) is the same."""
    canonical = json.dumps(json.loads(definition), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _filled(node: Any, values: Mapping[str, str], path: Path) -> Any:
    if isinstance(node, dict):
        return {key: _filled(value, values, path) for key, value in node.items()}
    if isinstance(node, list):
        return [_filled(value, values, path) for value in node]
    if isinstance(node, str):
        def value_of(match: re.Match[str]) -> str:
            name = match[1]
            if name not in values:
                raise CompiledPipelineError(f"{path} holds the placeholder ${{{name}}}, which it does not declare: "
                                            "run `make pipelines`")
            return values[name]

        return _PLACEHOLDER.sub(value_of, node)
    return node


def _typed(value: Any, parameter: dict[str, Any], path: Path) -> Any:
    kind = _PARAMETER_TYPES.get(parameter.get("Type", "String"))
    if kind is None:
        raise CompiledPipelineError(f"{path}: parameter {parameter['Name']} has the unknown type {parameter['Type']!r}")
    if isinstance(value, bool) and kind is not bool:
        raise CompiledPipelineError(f"parameter {parameter['Name']} is a {parameter['Type']}, not a boolean: {value!r}")
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise CompiledPipelineError(f"parameter {parameter['Name']} is a {parameter['Type']}: {value!r} is not "
                                    "one") from None
