"""The hooks name the operator that made a client as the provider does, without inspect.stack()."""

from __future__ import annotations

import inspect

import pytest
from airflow.providers.amazon.aws.hooks.sagemaker import SageMakerHook
from airflow_sagemaker_pipelines.hooks.pipeline_execution import PipelineExecutionHook
from airflow_sagemaker_pipelines.hooks.provider_clients import S3Hook


def callers() -> tuple[str, str]:
    """(the provider's name for the caller, this package's), asked from the same frame."""
    return SageMakerHook(aws_conn_id=None)._get_caller(), PipelineExecutionHook(aws_conn_id=None)._get_caller()


class StartsSomething:
    def execute(self, context: dict) -> tuple[str, str]:
        return callers()


class BaseSensorOperator:  # the provider looks for `poke` when the operator is named so
    def execute(self, context: dict) -> tuple[str, str]:
        return self.poke(context)

    def poke(self, context: dict) -> tuple[str, str]:
        return callers()


class WaitsForSomething(BaseSensorOperator):
    pass


def test_an_operator_is_named_as_the_provider_names_it() -> None:
    assert StartsSomething().execute({}) == ("StartsSomething", "StartsSomething")


def test_a_sensor_is_named_as_the_provider_names_it() -> None:
    provider, ours = WaitsForSomething().execute({})
    assert ours == provider == "WaitsForSomething"


def test_a_client_made_outside_any_operator_is_named_as_the_provider_names_it() -> None:
    provider, ours = callers()
    assert ours == provider


def test_the_name_is_found_without_reading_the_stack_with_inspect(monkeypatch: pytest.MonkeyPatch) -> None:
    def unavailable(*_: object, **__: object) -> None:
        raise AssertionError("inspect.stack() called")

    monkeypatch.setattr(inspect, "stack", unavailable)

    class ReadsSomething:
        def execute(self, context: dict) -> str:
            return S3Hook(aws_conn_id=None)._get_caller()

    assert ReadsSomething().execute({}) == "ReadsSomething"
    assert StartsSomething().execute({}) == ("Unknown", "StartsSomething")  # the provider's gives up
