"""Keyset cursors: opaque strings carrying the sort key of the last row served."""

from __future__ import annotations

import base64
import json
from typing import Any

from frontline.core.errors import ValidationFailed


def cursor_encode(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(cursor: str, *, length: int, field: str = "cursor") -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError) as exc:
        raise ValidationFailed("Malformed cursor.", fields={field: ["malformed cursor"]}) from exc
    if not isinstance(values, list) or len(values) != length:
        raise ValidationFailed("Malformed cursor.", fields={field: ["malformed cursor"]})
    return values
