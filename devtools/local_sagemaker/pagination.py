"""NextToken pagination over a list, as the SageMaker List* APIs page."""

from __future__ import annotations

import base64
from typing import Any

from moto.sagemaker.exceptions import ValidationError

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100


def paginate(items: list[Any], max_results: int | None, next_token: str | None) -> tuple[list[Any], str | None]:
    size = int(max_results or DEFAULT_PAGE_SIZE)
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise ValidationError(f"MaxResults must be between 1 and {MAX_PAGE_SIZE}; got {size}")
    start = 0
    if next_token:
        try:
            start = int(base64.urlsafe_b64decode(next_token.encode()).decode())
        except ValueError:
            raise ValidationError(f"NextToken '{next_token}' is invalid") from None
    end = start + size
    token = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(items) else None
    return items[start:end], token
