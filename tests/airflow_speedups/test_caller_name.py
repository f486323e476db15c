"""With the local speed-up installed, the hooks name the operator that made a client as the provider does,
without inspect.stack()."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from airflow.providers.amazon.aws.hooks.base_aws import AwsGenericHook
from airflow_sagemaker_pipelines.hooks.provider_clients import S3Hook

from devtools.airflow_speedups import caller_name


def callers() -> tuple[str, str]:
    """(the provider's own lookup's name for the caller, the installed one's), asked from the same frame."""
    return _caller_with(caller_name.PROVIDER_LOOKUPS), AwsGenericHook(aws_conn_id=None)._get_caller()


def _caller_with(lookups: dict[str, Any]) -> str:
    original = (AwsGenericHook.__dict__["_find_operator_class_name"],  # the staticmethod objects themselves
                AwsGenericHook.__dict__["_find_executor_class_name"])
    AwsGenericHook._find_operator_class_name = staticmethod(lookups["operator"])  # type: ignore[method-assign]
    AwsGenericHook._find_executor_class_name = staticmethod(lookups["executor"])  # type: ignore[method-assign]
    try:
        return AwsGenericHook(aws_conn_id=None)._get_caller()
    finally:
        AwsGenericHook._find_operator_class_name, AwsGenericHook._find_executor_class_name = original


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


def test_the_tests_like_the_local_stacks_have_it_installed() -> None:
    assert AwsGenericHook._find_operator_class_name is caller_name.find_operator_class_name
    assert caller_name.PROVIDER_LOOKUPS["operator"] is not caller_name.find_operator_class_name


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
