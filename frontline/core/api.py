"""The global event feed: every change in commit order, resumable with a cursor."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from frontline.accounts.models import Role
from frontline.api.permissions import require_roles
from frontline.core.errors import ValidationFailed
from frontline.core.pagination import cursor_decode
from frontline.core.selectors import event_feed

router = Router(tags=["events"])


class EventOut(Schema):
    id: int
    name: str
    ticket_id: int | None
    customer_id: int | None
    actor: str
    payload: dict[str, Any]
    created_at: datetime


class EventPage(Schema):
    events: list[EventOut]
    next_cursor: str = Field(..., description="pass as ?after= to continue; stable when empty")


_BIGINT_MAX = 2**63 - 1


def _after_check(after: str | None) -> None:
    """422 for a cursor that decodes but does not hold two ids (e.g. ["a", "b"] or 10**30);
    event_feed would fail on int() or in the database with a 500."""
    if not after:
        return
    values = cursor_decode(after, length=2, field="after")
    if not all(type(v) is int and 0 <= v <= _BIGINT_MAX for v in values):
        raise ValidationFailed("Malformed cursor.", fields={"after": ["malformed cursor"]})


@router.get("", response=EventPage, summary="Every domain event after a cursor, in order")
def event_list(request: HttpRequest, after: str | None = None, limit: int = 100) -> dict[str, Any]:
    require_roles(request, Role.ADMIN, Role.SUPERVISOR)
    _after_check(after)
    page = event_feed(after=after, limit=max(1, min(limit, 1000)))
    return {"events": page.events, "next_cursor": page.next_cursor}
