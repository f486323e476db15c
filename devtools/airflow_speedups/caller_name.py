"""The operator named in each AWS client's user agent, found from the call frames alone.

The provider names the operator, sensor or executor that made a client (`Caller/<class>` in the
user agent) with `inspect.stack()`, which also reads the source lines of every frame and maps each
frame to its module by scanning `sys.modules`: 10-30 ms for every client made (py-spy: a sixth of
the CPU of a training DAG's task on the native stack). The same walk over the frames, innermost
first, finds the same name without them. `install()` puts it in place of the provider's private
lookups, for the local tools only (devtools/airflow_speedups/__init__.py).
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterator
from types import FrameType


def _frames() -> Iterator[FrameType]:
    """The frames from the caller's outwards (those inspect.stack() returns, in its order)."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        yield frame
        frame = frame.f_back


def find_operator_class_name(target_function_name: str) -> str | None:
    for frame in _frames():
        if frame.f_code.co_name == target_function_name:
            return type(frame.f_locals["self"]).__name__  # no `self`: KeyError, as the provider's
    return None


def find_executor_class_name() -> str | None:
    for frame in _frames():
        classes = [name for name, value in frame.f_globals.items() if inspect.isclass(value)]
        if "BaseExecutor" in classes:
            return classes[-1]
    return None


def install() -> None:
    """Every AWS hook of this process names its caller from the frames (the provider's lookups kept aside)."""
    from airflow.providers.amazon.aws.hooks.base_aws import AwsGenericHook

    if AwsGenericHook._find_operator_class_name is find_operator_class_name:
        return
    PROVIDER_LOOKUPS.update(operator=AwsGenericHook._find_operator_class_name,
                            executor=AwsGenericHook._find_executor_class_name)
    AwsGenericHook._find_operator_class_name = staticmethod(find_operator_class_name)  # type: ignore[method-assign]
    AwsGenericHook._find_executor_class_name = staticmethod(find_executor_class_name)  # type: ignore[method-assign]


PROVIDER_LOOKUPS: dict[str, object] = {}  # the provider's own, once install() replaced them
