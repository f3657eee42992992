"""Checking `Ticket.custom_fields` values against their `CustomField` definitions. Pure: the
caller loads the definitions (one query) and passes them in."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from frontline.core.errors import ValidationFailed
from frontline.tickets.models import CustomField, CustomFieldType

TEXT_MAX = 10_000
_TRUE, _FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}


def _coerce(definition: CustomField, value: Any) -> Any:
    """The stored form of `value`, or raise ValueError with the reason."""
    kind = definition.type
    if kind == CustomFieldType.TEXT:
        if not isinstance(value, str):
            raise ValueError("must be text")
        if len(value) > TEXT_MAX:
            raise ValueError(f"at most {TEXT_MAX} characters")
        return value
    if kind == CustomFieldType.NUMBER:
        if isinstance(value, bool):
            raise ValueError("must be a number")
        if isinstance(value, int | float):
            return value
        if isinstance(value, str):  # form posts send text
            try:
                return int(value)
            except ValueError:
                try:
                    number = float(value)
                except ValueError:
                    raise ValueError("must be a number") from None
                if number != number or number in (float("inf"), float("-inf")):
                    raise ValueError("must be a number") from None
                return number
        raise ValueError("must be a number")
    if kind == CustomFieldType.CHECKBOX:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        raise ValueError("must be true or false")
    if kind == CustomFieldType.DROPDOWN:
        if value not in definition.options:
            raise ValueError(f"must be one of {definition.options}")
        return value
    if kind == CustomFieldType.DATE:
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, str):
            try:
                return date.fromisoformat(value).isoformat()
            except ValueError:
                pass
        raise ValueError("must be a date (YYYY-MM-DD)")
    raise ValueError("unknown field type")


def custom_values_clean(
    definitions: Mapping[str, CustomField], values: Mapping[str, Any]
) -> dict[str, Any]:
    """`values` in their stored form. None removes a key (always allowed); a key without an
    active definition, or a value of the wrong type, is refused with a field error."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            clean[key] = None
            continue
        definition = definitions.get(key)
        if definition is None or not definition.active:
            errors[f"custom_fields.{key}"] = ["unknown field"]
            continue
        try:
            clean[key] = _coerce(definition, value)
        except ValueError as exc:
            errors[f"custom_fields.{key}"] = [str(exc)]
    if errors:
        raise ValidationFailed("Some custom fields are not valid.", fields=errors)
    return clean


def custom_values_missing_for_solve(
    definitions: Mapping[str, CustomField], values: Mapping[str, Any]
) -> list[str]:
    """Keys that must have a value before the ticket may be solved, sorted."""
    return sorted(
        key
        for key, definition in definitions.items()
        if definition.active and definition.required_on_solve and values.get(key) in (None, "")
    )
