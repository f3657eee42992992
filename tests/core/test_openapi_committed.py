"""The committed OpenAPI document (docs/openapi.json) matches the code: `make schema` updates it."""

from __future__ import annotations

import json
from pathlib import Path

from frontline.api.api import api

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_committed_schema_is_current() -> None:
    current = json.loads(json.dumps(api.get_openapi_schema(), sort_keys=True, default=str))
    committed = json.loads(COMMITTED.read_text())
    assert current == committed, "The API changed: run `make schema` and commit docs/openapi.json"
