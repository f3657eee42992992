"""The global event feed: every change in commit order, resumable with a cursor."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from frontline.accounts.models import Role
from frontline.api.permissions import require_roles
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


@router.get("", response=EventPage, summary="Every domain event after a cursor, in order")
def event_list(request: HttpRequest, after: str | None = None, limit: int = 100) -> dict[str, Any]:
    require_roles(request, Role.ADMIN, Role.SUPERVISOR)
    page = event_feed(after=after, limit=max(1, min(limit, 1000)))
    return {"events": page.events, "next_cursor": page.next_cursor}
