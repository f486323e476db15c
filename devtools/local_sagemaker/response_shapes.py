"""Leave out of a response what AWS leaves out: a structure without its required members.

moto answers DescribeModel with `"VpcConfig": {}` for a model without one; AWS omits the member,
and SDK v3's generated shapes (ModelBuilder) refuse the empty structure because VpcConfig
requires SecurityGroupIds and Subnets. Every SageMaker response goes through `prune`, which
walks the operation's output shape and drops any structure missing a required member, so the
same bug cannot hide in another Describe call.
"""

from __future__ import annotations

from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape


def prune(value: Any, shape: Shape | None) -> Any:
    if shape is None:
        return value
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        pruned = dict(value)
        for name, member in shape.members.items():
            if name not in pruned:
                continue
            item = prune(pruned[name], member)
            if item is None or (isinstance(member, StructureShape) and isinstance(item, dict) and _incomplete(item, member)):
                del pruned[name]
            else:
                pruned[name] = item
        return pruned
    if isinstance(shape, ListShape) and isinstance(value, list):
        return [prune(item, shape.member) for item in value]
    if isinstance(shape, MapShape) and isinstance(value, dict):
        return {key: prune(item, shape.value) for key, item in value.items()}
    return value


def _incomplete(value: dict[str, Any], shape: StructureShape) -> bool:
    required = shape.required_members
    return (not value and bool(required)) or any(value.get(name) is None for name in required)
