"""Parse and validate a SageMaker pipeline definition (schema 2020-12-01).

The validation is what CreatePipeline/UpdatePipeline answer with a ValidationException:
not JSON, a wrong schema version, a step type steps.RUNNERS does not have, a duplicate step
name, a reference to a step that does not exist, a dependency cycle, a malformed condition,
DependsOn run condition or CacheConfig ExpireAfter.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from .errors import DefinitionError
from .step_cache import parse_expire_after
from .steps import RUNNERS

SUPPORTED_VERSION = "2020-12-01"
# DependsOn run conditions (sagemaker.mlops.workflow.StepDependency): the upstream outcome that lets a step run.
TRIGGERS = ("Completed", "Failed", "Stopped", "Any")
PARAMETER_TYPES = ("String", "Integer", "Float", "Boolean")

_STEP_REFERENCE = re.compile(r"^Steps\.([A-Za-z0-9\-_]+)")


@dataclass
class StepDefinition:
    name: str
    type: str
    arguments: dict[str, Any]
    raw: dict[str, Any]
    depends_on: set[str] = field(default_factory=set)
    # For steps nested in a Condition step: (condition step name, "If" | "Else").
    branch: tuple[str, str] | None = None
    # Upstream step -> the outcome it must reach (TRIGGERS); "Completed" when not given.
    triggers: dict[str, str] = field(default_factory=dict)

    def trigger(self, dependency: str) -> str:
        return self.triggers.get(dependency, "Completed")

    @property
    def display_name(self) -> str | None:
        return self.raw.get("DisplayName")

    @property
    def description(self) -> str | None:
        return self.raw.get("Description")

    @property
    def cache_config(self) -> dict[str, Any] | None:
        config = self.raw.get("CacheConfig")
        return config if config and config.get("Enabled") else None

    @property
    def property_files(self) -> list[dict[str, Any]]:
        return self.raw.get("PropertyFiles") or []


@dataclass
class ParameterDefinition:
    name: str
    type: str
    default: Any = None
    has_default: bool = False


@dataclass
class PipelineDefinition:
    version: str
    parameters: dict[str, ParameterDefinition]
    steps: dict[str, StepDefinition]
    raw: dict[str, Any]

    @property
    def experiment_config(self) -> dict[str, Any] | None:
        """PipelineExperimentConfig; None when the pipeline asks for no experiment."""
        return self.raw.get("PipelineExperimentConfig")

    def topological_order(self) -> list[str]:
        order: list[str] = []
        state: dict[str, str] = {}

        def visit(name: str, path: list[str]) -> None:
            if state.get(name) == "done":
                return
            if state.get(name) == "visiting":
                cycle = " -> ".join([*path[path.index(name) :], name])
                raise DefinitionError(f"Pipeline definition has a dependency cycle: {cycle}")
            state[name] = "visiting"
            for dependency in sorted(self.steps[name].depends_on):
                visit(dependency, [*path, name])
            state[name] = "done"
            order.append(name)

        for name in self.steps:
            visit(name, [])
        return order


def parse_definition(text: str | dict[str, Any]) -> PipelineDefinition:
    """Parse and validate a definition; raise DefinitionError naming the problem."""
    if isinstance(text, dict):
        raw = text
    else:
        try:
            raw = json.loads(text)
        except (TypeError, ValueError) as error:
            raise DefinitionError(f"Pipeline definition is not valid JSON: {error}") from None
    if not isinstance(raw, dict):
        raise DefinitionError("Pipeline definition must be a JSON object")
    version = raw.get("Version")
    if version != SUPPORTED_VERSION:
        raise DefinitionError(
            f"Pipeline definition Version {version!r} is not supported; allowed: {SUPPORTED_VERSION!r}"
        )

    parameters = _parse_parameters(raw.get("Parameters") or [])
    steps: dict[str, StepDefinition] = {}
    top_level = raw.get("Steps")
    if not isinstance(top_level, list) or not top_level:
        raise DefinitionError("Pipeline definition must have a non-empty 'Steps' list")
    for step_raw in top_level:
        _add_step(steps, step_raw, branch=None)
    _check_experiment_config(raw.get("PipelineExperimentConfig"))

    for step in steps.values():
        _collect_dependencies(step, steps, parameters)

    definition = PipelineDefinition(version, parameters, steps, raw)
    definition.topological_order()  # raises on a cycle
    return definition


def _parse_parameters(items: list[Any]) -> dict[str, ParameterDefinition]:
    parameters: dict[str, ParameterDefinition] = {}
    for item in items:
        if not isinstance(item, dict) or not item.get("Name"):
            raise DefinitionError(f"Pipeline parameter must be an object with a 'Name': {item!r}")
        name, kind = item["Name"], item.get("Type", "String")
        if kind not in PARAMETER_TYPES:
            raise DefinitionError(
                f"Parameter '{name}' has Type {kind!r}; allowed: {', '.join(PARAMETER_TYPES)}"
            )
        if name in parameters:
            raise DefinitionError(f"Parameter '{name}' is defined more than once")
        parameters[name] = ParameterDefinition(
            name, kind, item.get("DefaultValue"), "DefaultValue" in item
        )
    return parameters


def _add_step(
    steps: dict[str, StepDefinition], raw: Any, branch: tuple[str, str] | None
) -> None:
    if not isinstance(raw, dict) or not isinstance(raw.get("Name"), str) or not raw["Name"]:
        raise DefinitionError(f"Every step needs a 'Name': {str(raw)[:200]}")
    name, kind = raw["Name"], raw.get("Type")
    if kind not in RUNNERS:
        raise DefinitionError(
            f"Step '{name}' has unknown Type {kind!r}; supported: {', '.join(RUNNERS)}"
        )
    if name in steps:
        raise DefinitionError(f"Step name '{name}' is used more than once")
    arguments = raw.get("Arguments") or {}
    if not isinstance(arguments, dict):
        raise DefinitionError(f"Step '{name}' Arguments must be an object")
    depends_on, triggers = _depends_on(name, raw.get("DependsOn") or [])
    step = StepDefinition(name, kind, arguments, raw, depends_on, branch, triggers)
    if step.cache_config:
        parse_expire_after(step.cache_config.get("ExpireAfter"))
    RUNNERS[kind].check(step)
    steps[name] = step
    if kind == "Condition":
        for key, label in (("IfSteps", "If"), ("ElseSteps", "Else")):
            for nested in arguments.get(key) or []:
                _add_step(steps, nested, branch=(name, label))


def _depends_on(name: str, items: Any) -> tuple[set[str], dict[str, str]]:
    """Step names, and the run condition of each `{"Step": name, "Trigger": ...}` entry."""
    if not isinstance(items, list):
        raise DefinitionError(f"Step '{name}' DependsOn must be a list of step names")
    names: set[str] = set()
    triggers: dict[str, str] = {}
    for item in items:
        if isinstance(item, str):
            names.add(item)
            continue
        if not isinstance(item, dict) or not isinstance(item.get("Step"), str) or set(item) - {"Step", "Trigger"}:
            raise DefinitionError(
                f"Step '{name}' DependsOn entry {item!r} is invalid: use a step name or "
                '{"Step": <name>, "Trigger": <Completed|Failed|Stopped|Any>}'
            )
        trigger = item.get("Trigger", "Completed")
        if trigger not in TRIGGERS:
            raise DefinitionError(
                f"Step '{name}' DependsOn step '{item['Step']}' has Trigger {trigger!r}; allowed: {', '.join(TRIGGERS)}"
            )
        names.add(item["Step"])
        triggers[item["Step"]] = trigger
    return names, triggers


def _check_experiment_config(config: Any) -> None:
    if config is None:
        return
    if not isinstance(config, dict) or set(config) - {"ExperimentName", "TrialName"}:
        raise DefinitionError(
            f"PipelineExperimentConfig {str(config)[:200]} is invalid: it has ExperimentName and TrialName, or is null"
        )


def _collect_dependencies(
    step: StepDefinition,
    steps: dict[str, StepDefinition],
    parameters: dict[str, ParameterDefinition],
) -> None:
    for dependency in list(step.depends_on):
        if dependency not in steps:
            raise DefinitionError(
                f"Step '{step.name}' DependsOn step '{dependency}', which does not exist"
            )
    body = dict(step.raw)
    if step.type == "Condition":
        # Nested steps carry their own references; the condition only owns its Conditions.
        body["Arguments"] = {"Conditions": step.arguments.get("Conditions")}
    for reference in _references(body):
        if reference.startswith("Parameters."):
            parameter = reference.split(".", 1)[1]
            if parameter not in parameters:
                raise DefinitionError(
                    f"Step '{step.name}' refers to parameter '{parameter}', which is not defined"
                )
            continue
        match = _STEP_REFERENCE.match(reference)
        if match:
            target = match.group(1)
            if target not in steps:
                raise DefinitionError(
                    f"Step '{step.name}' refers to step '{target}', which does not exist"
                )
            if target != step.name:
                step.depends_on.add(target)
    if step.branch:
        step.depends_on.add(step.branch[0])


def _references(value: Any) -> list[str]:
    found: list[str] = []
    if isinstance(value, dict):
        if set(value) == {"Get"} and isinstance(value["Get"], str):
            found.append(value["Get"])
        for item in value.values():
            found.extend(_references(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_references(item))
    return found
