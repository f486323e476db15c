"""A declaration checked against the compiled definition beside it: every name it gives must be the pipeline's.

The declaration names the pipeline's parameters, steps, evaluation output and metric path; the
compiled definition (compiled.json, `make pipelines`) is what SageMaker will run. A name the
definition does not have would fail every run at some task, hours in: here it fails the parse,
naming the declaration's key and what the definition has instead. The metric's path is checked
against the condition that compares the report with the gate's parameter: what the pipeline's own
gate reads is what the DAG decides on.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .declarations import DeclarationError, PipelineDeclaration


def check_definition(declaration: PipelineDeclaration, definition: dict[str, Any]) -> None:
    """Raise a DeclarationError naming the first key of `declaration` that `definition` contradicts."""
    file = declaration.file
    parameters = {parameter.get("Name") for parameter in definition.get("Parameters", [])}
    steps = {step.get("Name"): step for step in _steps(definition.get("Steps", []))}

    def refuse(key: str, value: str, kind: str, known: set[Any]) -> DeclarationError:
        have = ", ".join(sorted(str(name) for name in known if name)) or "none"
        return DeclarationError(f"{file}: {key}: {value!r} is not a {kind} of the compiled definition "
                                f"{declaration.compiled_definition.name} (it has {have})")

    declared_parameters = [("[data] parameter", declaration.data_parameter)]
    if declaration.metric.parameter:
        declared_parameters.append(("[metric] parameter", declaration.metric.parameter))
    if declaration.approval_status_parameter:
        declared_parameters.append(("[registry] approval_status_parameter", declaration.approval_status_parameter))
    declared_parameters += [(f"[provenance] {name}", parameter) for name, parameter in declaration.provenance.items()]
    declared_parameters += [(f"[form.{form.name}]", form.name) for form in declaration.form]
    declared_parameters += [(f"[settings.{setting.key}] parameter", setting.parameter)
                            for setting in declaration.settings]
    quality = declaration.data_quality
    if quality:
        declared_parameters += [(f"[data_quality] {key}", getattr(quality, key)) for key in (
            "skip_check_parameter", "register_baseline_parameter", "fail_on_violation_parameter",
            "baseline_statistics_parameter", "baseline_constraints_parameter")]
    for key, name in declared_parameters:
        if name not in parameters:
            raise refuse(key, name, "parameter", parameters)

    declared_steps = [("[evaluation] step", declaration.evaluation_step),
                      ("[registry] register_step", declaration.register_step)]
    if declaration.metric.gate_step:
        declared_steps.append(("[metric] gate_step", declaration.metric.gate_step))
    if quality:
        declared_steps.append(("[data_quality] step", quality.step))
    for key, name in declared_steps:
        if name not in steps:
            raise refuse(key, name, "step", set(steps))
    if quality and (steps[quality.step].get("Type"), steps[quality.step].get("CheckType")) != (
            "QualityCheck", "DATA_QUALITY"):
        checks = {name for name, step in steps.items() if step.get("Type") == "QualityCheck"}
        raise refuse("[data_quality] step", quality.step, "QualityCheck step with CheckType DATA_QUALITY", checks)

    evaluation = steps[declaration.evaluation_step]
    outputs = {output.get("OutputName") for output in
               evaluation.get("Arguments", {}).get("ProcessingOutputConfig", {}).get("Outputs", [])}
    if declaration.evaluation_output not in outputs:
        raise refuse("[evaluation] output", declaration.evaluation_output,
                     f"processing output of step {declaration.evaluation_step}", outputs)

    if declaration.metric.parameter:
        read = set(_gate_paths(definition, declaration.evaluation_step, declaration.metric.parameter))
        declared = ".".join(declaration.metric.path)
        if read and declared not in read:
            raise DeclarationError(
                f"{file}: [metric] path: {declared!r} is not the report's path the pipeline's gate compares with "
                f"{declaration.metric.parameter} ({', '.join(sorted(read))}): the DAG would decide on another "
                "number than the gate")


def _steps(steps: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every step, the branches of condition steps included."""
    for step in steps:
        yield step
        arguments = step.get("Arguments", {})
        if step.get("Type") == "Condition":
            yield from _steps(arguments.get("IfSteps", []))
            yield from _steps(arguments.get("ElseSteps", []))


def _gate_paths(definition: dict[str, Any], evaluation_step: str, parameter: str) -> Iterator[str]:
    """The JsonGet paths into the evaluation step's report that a condition compares with `parameter`."""
    property_files = f"Steps.{evaluation_step}.PropertyFiles."
    for step in _steps(definition.get("Steps", [])):
        if step.get("Type") != "Condition":
            continue
        for condition in step.get("Arguments", {}).get("Conditions", []):
            sides = [condition.get("LeftValue"), condition.get("RightValue")]
            if {"Get": f"Parameters.{parameter}"} not in sides:
                continue
            for side in sides:
                json_get = side.get("Std:JsonGet") if isinstance(side, dict) else None
                if json_get and str(json_get.get("PropertyFile", {}).get("Get", "")).startswith(property_files):
                    yield json_get.get("Path", "")
